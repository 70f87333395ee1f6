//! DRB's import file of the existing application catalogue (R-E1, R-I9), parsed: CSV (RFC 4180,
//! UTF-8, header row) or JSON (an array of objects), the same fields either way:
//!
//! `external_id, name, source (DISTRICT | PROVINCE), builder_unit, operator_unit, user_units,
//! functions` — in CSV, `user_units` is `;`-separated and `functions` is `;`-separated
//! `名称：描述` (or just `名称`); in JSON both are arrays (functions as strings or
//! `{"name", "description"}` objects). A bad row is reported with its number and field and the
//! others are imported.

use serde::Deserialize;

use super::{entry::ImportedApp, model::*};

/// A row the file could not give, with its 1-based data row number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    pub row: usize,
    pub field: String,
    pub description: String,
}

/// The most rows one import takes.
pub const MAX_ROWS: usize = 20_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

/// The rows of `content` in `format`, and the rows refused. A file that cannot be read at all is
/// one error of row 0.
pub fn parse(format: Format, content: &[u8]) -> (Vec<ImportedApp>, Vec<RowError>) {
    let Ok(text) = std::str::from_utf8(content) else {
        return (vec![], vec![RowError { row: 0, field: "file".into(), description: "not UTF-8 text".into() }]);
    };
    let text = text.trim_start_matches('\u{feff}');
    let raw = match format {
        Format::Csv => csv_rows(text),
        Format::Json => json_rows(text),
    };
    let raw = match raw {
        Ok(r) => r,
        Err(e) => return (vec![], vec![RowError { row: 0, field: "file".into(), description: e }]),
    };
    if raw.len() > MAX_ROWS {
        return (
            vec![],
            vec![RowError { row: 0, field: "file".into(), description: format!("{} rows: at most {MAX_ROWS} per import", raw.len()) }],
        );
    }
    let mut rows = vec![];
    let mut errors = vec![];
    let mut keys: Vec<(Source, String)> = vec![];
    for (i, r) in raw.into_iter().enumerate() {
        let n = i + 1;
        match row(r) {
            Ok(app) if keys.contains(&(app.source, app.external_key.clone())) => {
                errors.push(RowError { row: n, field: "external_id".into(), description: format!("{} appears twice", app.external_key) })
            }
            Ok(app) => {
                keys.push((app.source, app.external_key.clone()));
                rows.push(app);
            }
            Err((field, description)) => errors.push(RowError { row: n, field: field.into(), description }),
        }
    }
    (rows, errors)
}

#[derive(Debug, Default, Deserialize)]
struct RawRow {
    #[serde(default)]
    external_id: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    builder_unit: String,
    #[serde(default)]
    operator_unit: String,
    #[serde(default)]
    user_units: Vec<String>,
    #[serde(default)]
    functions: Vec<RawFunction>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RawFunction {
    Text(String),
    Full {
        name: String,
        #[serde(default)]
        description: String,
    },
}

fn text_field(field: &'static str, raw: &str, max: usize) -> Result<String, (&'static str, String)> {
    let v = raw.trim();
    if v.is_empty() {
        return Err((field, "required".into()));
    }
    if v.chars().count() > max || v.chars().any(char::is_control) {
        return Err((field, format!("at most {max} printable characters")));
    }
    Ok(v.to_string())
}

fn function(raw: RawFunction) -> Function {
    match raw {
        RawFunction::Full { name, description } => Function { name: name.trim().into(), description: description.trim().into() },
        RawFunction::Text(t) => match t.split_once(['：', ':']) {
            Some((n, d)) => Function { name: n.trim().into(), description: d.trim().into() },
            None => Function { name: t.trim().into(), description: String::new() },
        },
    }
}

fn row(r: RawRow) -> Result<ImportedApp, (&'static str, String)> {
    let external_key = text_field("external_id", &r.external_id, 64)?;
    let name = text_field("name", &r.name, 200)?;
    let source = match r.source.trim() {
        "DISTRICT" | "区级" => Source::District,
        "PROVINCE" | "省级" => Source::Province,
        other => return Err(("source", format!("{:?}: DISTRICT (区级) or PROVINCE (省级)", egov_platform::request::bounded(other)))),
    };
    let builder_unit_id = text_field("builder_unit", &r.builder_unit, 64)?;
    let operator_unit_id =
        if r.operator_unit.trim().is_empty() { String::new() } else { text_field("operator_unit", &r.operator_unit, 64)? };
    let user_unit_ids = r.user_units.iter().map(|u| u.trim().to_string()).filter(|u| !u.is_empty()).collect();
    let functions: Vec<Function> = r.functions.into_iter().map(function).filter(|f| !f.name.is_empty()).collect();
    if functions.is_empty() {
        return Err(("functions", "at least one function: screening compares functions".into()));
    }
    if functions.iter().any(|f| f.name.chars().count() > 200 || f.description.chars().count() > 2000) {
        return Err(("functions", "a function's name has at most 200 characters, its description 2000".into()));
    }
    Ok(ImportedApp { external_key, name, source, builder_unit_id, operator_unit_id, user_unit_ids, functions })
}

fn json_rows(text: &str) -> Result<Vec<RawRow>, String> {
    serde_json::from_str::<Vec<RawRow>>(text).map_err(|e| format!("not a JSON array of catalogue rows: {e}"))
}

const CSV_COLUMNS: [&str; 7] = ["external_id", "name", "source", "builder_unit", "operator_unit", "user_units", "functions"];

fn csv_rows(text: &str) -> Result<Vec<RawRow>, String> {
    let records = csv_records(text)?;
    let mut it = records.into_iter();
    let header: Vec<String> =
        it.next().ok_or("the file is empty: a header row is required")?.iter().map(|h| h.trim().to_string()).collect();
    let index = |name: &str| header.iter().position(|h| h == name);
    let cols: Vec<Option<usize>> = CSV_COLUMNS.iter().map(|c| index(c)).collect();
    if cols[0].is_none() || cols[1].is_none() || cols[2].is_none() || cols[3].is_none() || cols[6].is_none() {
        return Err(format!("the header row needs the columns {}", CSV_COLUMNS.join(",")));
    }
    let list = |v: &str| v.split([';', '；']).map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect::<Vec<_>>();
    Ok(it
        .filter(|r| r.iter().any(|f| !f.trim().is_empty()))
        .map(|r| {
            let get = |i: usize| cols[i].and_then(|c| r.get(c)).cloned().unwrap_or_default();
            RawRow {
                external_id: get(0),
                name: get(1),
                source: get(2),
                builder_unit: get(3),
                operator_unit: get(4),
                user_units: list(&get(5)),
                functions: list(&get(6)).into_iter().map(RawFunction::Text).collect(),
            }
        })
        .collect())
}

/// RFC 4180 records: quoted fields may hold commas, quotes ("") and line breaks.
fn csv_records(text: &str) -> Result<Vec<Vec<String>>, String> {
    let mut records = vec![];
    let mut record = vec![];
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => quoted = false,
                c => field.push(c),
            }
            continue;
        }
        match c {
            '"' if field.is_empty() => quoted = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                records.push(std::mem::take(&mut record));
            }
            c => field.push(c),
        }
    }
    if quoted {
        return Err("a quoted field is not closed".into());
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        records.push(record);
    }
    Ok(records)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_quotes_and_lists() {
        let csv = "external_id,name,source,builder_unit,operator_unit,user_units,functions\n\
                   D-1,\"城市大脑, 上城\",DISTRICT,区数据资源局,,区民政局;区城管局,\"低保网上申办：群众申请低保；养老服务\"\n\
                   \n\
                   D-2,无功能,PROVINCE,省大数据局,,,\n\
                   D-3,来源错,CITY,x,,,a\n";
        let (rows, errors) = parse(Format::Csv, csv.as_bytes());
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].name, "城市大脑, 上城");
        assert_eq!(rows[0].user_unit_ids, vec!["区民政局", "区城管局"]);
        assert_eq!(rows[0].functions[0], Function { name: "低保网上申办".into(), description: "群众申请低保".into() });
        assert_eq!(rows[0].functions[1].name, "养老服务");
        assert_eq!(errors.iter().map(|e| (e.row, e.field.as_str())).collect::<Vec<_>>(), vec![(2, "functions"), (3, "source")]);
    }

    #[test]
    fn json_rows_and_duplicates() {
        let json = r#"[{"external_id":"P-1","name":"浙里办","source":"PROVINCE","builder_unit":"省大数据局","functions":[{"name":"事项办理","description":"一网通办"}]},
                       {"external_id":"P-1","name":"浙里办","source":"PROVINCE","builder_unit":"省大数据局","functions":["事项办理"]}]"#;
        let (rows, errors) = parse(Format::Json, json.as_bytes());
        assert_eq!(rows.len(), 1);
        assert_eq!(errors[0].row, 2);
        let (_, errors) = parse(Format::Json, b"{}");
        assert_eq!(errors[0].row, 0);
        let (_, errors) = parse(Format::Csv, &[0xff, 0xfe]);
        assert_eq!(errors[0].field, "file");
        let (_, errors) = parse(Format::Csv, b"a,b\n");
        assert!(errors[0].description.contains("header"));
    }

    #[test]
    fn the_shipped_sample_parses() {
        let (rows, errors) = parse(Format::Csv, include_bytes!("../../data/catalogue-sample.csv"));
        assert!(errors.is_empty(), "{errors:?}");
        assert!(rows.len() >= 30);
        assert!(rows.iter().any(|r| r.source == Source::Province));
    }
}

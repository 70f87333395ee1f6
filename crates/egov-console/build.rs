//! Reads the comments of `proto/` (with source info, which the services' descriptor set leaves
//! out) into `comments.json`: the full name of every message, field, enum and enum value that
//! has one → its first line. The pages take the Chinese term from it (e.g. `DOCUMENT_KIND_
//! FEASIBILITY_REPORT` → 项目可行性研究报告), so the API's own words label the forms.
use std::{collections::BTreeMap, env, fs, path::PathBuf};

use prost_types::{DescriptorProto, EnumDescriptorProto, FileDescriptorProto};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let list = root.join("files.list");
    println!("cargo:rerun-if-changed={}", list.display());
    let listed = fs::read_to_string(&list)?;
    let files: Vec<&str> = listed.lines().map(str::trim).filter(|l| !l.is_empty() && !l.starts_with('#')).collect();
    for f in &files {
        println!("cargo:rerun-if-changed={}", root.join(f).display());
    }
    let set = protox::Compiler::new([&root])?.include_source_info(true).open_files(files)?.file_descriptor_set();
    let mut out = BTreeMap::new();
    for file in &set.file {
        collect(file, &mut out);
    }
    fs::write(PathBuf::from(env::var("OUT_DIR")?).join("comments.json"), serde_json::to_string(&out)?)?;
    Ok(())
}

fn collect(file: &FileDescriptorProto, out: &mut BTreeMap<String, String>) {
    let package = file.package();
    let Some(info) = &file.source_code_info else { return };
    for loc in &info.location {
        let text = loc.trailing_comments().trim();
        let text = if text.is_empty() { loc.leading_comments().trim() } else { text };
        let Some(first) = text.lines().map(str::trim).find(|l| !l.is_empty()) else { continue };
        if let Some(name) = name_of(file, package, &loc.path) {
            out.insert(name, first.to_string());
        }
    }
}

/// The full name of the element at `path` (descriptor.proto's field numbers: 4 message_type,
/// 5 enum_type, 2 field / value, 3 nested_type, 4 enum_type inside a message).
fn name_of(file: &FileDescriptorProto, package: &str, path: &[i32]) -> Option<String> {
    let idx = |i: i32| usize::try_from(i).ok();
    match path {
        [4, m, rest @ ..] => in_message(file.message_type.get(idx(*m)?)?, package, rest),
        [5, e, rest @ ..] => in_enum(file.enum_type.get(idx(*e)?)?, package, rest),
        _ => None,
    }
}

fn in_message(m: &DescriptorProto, scope: &str, rest: &[i32]) -> Option<String> {
    let idx = |i: i32| usize::try_from(i).ok();
    let full = format!("{scope}.{}", m.name());
    match rest {
        [] => Some(full),
        [2, f] => Some(format!("{full}.{}", m.field.get(idx(*f)?)?.name())),
        [3, n, more @ ..] => in_message(m.nested_type.get(idx(*n)?)?, &full, more),
        [4, e, more @ ..] => in_enum(m.enum_type.get(idx(*e)?)?, &full, more),
        _ => None,
    }
}

fn in_enum(e: &EnumDescriptorProto, scope: &str, rest: &[i32]) -> Option<String> {
    let full = format!("{scope}.{}", e.name());
    match rest {
        [] => Some(full),
        [2, v] => Some(format!("{full}.{}", e.value.get(usize::try_from(*v).ok()?)?.name())),
        _ => None,
    }
}

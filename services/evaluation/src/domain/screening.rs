//! Duplicate screening (R-I9): how close a proposed function module is to the functions of the
//! application catalogue, and why. Pure and in memory: the catalogue's functions are indexed once
//! ([`Index::build`]) and every module is scored against all of them through an inverted index.
//!
//! The method is lexical, for Chinese, with nothing downloaded at run time:
//!
//! 1. **Normalise**: full-width forms to half-width, lower case, then the synonyms of government
//!    terms ([`SYNONYMS`]) to one canonical word each (申请/申报/申领 → 申报, 群众/市民/居民 → 居民,
//!    浙政钉/掌上办公 → 浙政钉, 最低生活保障 → 低保 ...), longest variant first.
//! 2. **Terms**: character bigrams of every run of Chinese characters, and words of letters and
//!    digits, less the generic terms every description has ([`GENERIC`]: 系统, 平台, 管理, 在线 ...)
//!    and bigrams across a function word (的, 和, 并 ...).
//! 3. **Weights**: TF-IDF with sublinear term frequency, the document frequency taken over the
//!    catalogue's functions (so a term that half the catalogue shares says little).
//! 4. **Score**: the weighted overlap of the module's terms with a function's: the sum over shared
//!    terms of the smaller weight, divided by the smaller of the two texts' total weights (a short
//!    catalogue title inside a long description still counts), blended with their cosine, then
//!    scaled so that [`FULL_MATCH`] or more reads 1.0. Scores lie in [0, 1] and are compared with
//!    the policy's `duplicate_score` and `partial_duplicate_score`.
//!
//! The reason shown to the reviewer is the shared terms, heaviest first. The labelled pairs in
//! `data/screening-pairs.tsv` measure precision and recall at the policy thresholds (see the test
//! `labelled_pairs_keep_their_precision_and_recall`).

use std::collections::HashMap;

/// Synonyms of government terms: every variant (left) is read as its canonical word (right).
pub const SYNONYMS: &[(&str, &str)] = &[
    ("最低生活保障", "低保"),
    ("高龄津贴", "高龄补贴"),
    ("老年人", "老人"),
    ("长者", "老人"),
    ("老年", "老人"),
    ("市民", "居民"),
    ("群众", "居民"),
    ("老百姓", "居民"),
    ("业主", "居民"),
    ("市场主体", "企业"),
    ("商户", "企业"),
    ("涉企", "企业"),
    ("掌上办公", "浙政钉"),
    ("手机端", "移动端"),
    ("手机上", "移动端"),
    ("小程序", "移动端"),
    ("app", "移动端"),
    ("网上", "在线"),
    ("线上", "在线"),
    ("网签", "在线"),
    ("申请", "申报"),
    ("申领", "申报"),
    ("申办", "申报"),
    ("提交", "申报"),
    ("审批", "审核"),
    ("审查", "审核"),
    ("核准", "审核"),
    ("核验", "审核"),
    ("比对", "核对"),
    ("核算", "计算"),
    ("查看", "查询"),
    ("检索", "查询"),
    ("汇总", "统计"),
    ("告警", "预警"),
    ("报警", "预警"),
    ("提醒", "预警"),
    ("推送", "通知"),
    ("消息", "通知"),
    ("录入", "登记"),
    ("填报", "登记"),
    ("填写", "登记"),
    ("采集", "登记"),
    ("台账", "登记"),
    ("受理", "办理"),
    ("办结", "办理"),
    ("诉求", "投诉"),
    ("举报", "投诉"),
    ("反映", "投诉"),
    ("巡检", "巡查"),
    ("排查", "巡查"),
    ("派单", "分派"),
    ("分拨", "分派"),
    ("派发", "分派"),
    ("交办", "分派"),
    ("补助", "补贴"),
    ("津贴", "补贴"),
    ("打卡", "考勤"),
    ("签到", "考勤"),
    ("预订", "预约"),
    ("打分", "评价"),
    ("评分", "评价"),
    ("测评", "评价"),
    ("满意度", "评价"),
    ("拨付", "发放"),
    ("兑付", "发放"),
    ("兑现", "发放"),
    ("拍照", "上报"),
    ("随手拍", "上报"),
    ("社区工作者", "社工"),
    ("社区干部", "社工"),
    ("社区工作人员", "社工"),
    ("执法队员", "执法人员"),
    ("城管队员", "执法人员"),
    ("探访", "走访"),
    ("年检", "检验"),
    ("抽样检验", "抽检"),
    ("医废", "医疗废物"),
    ("困难群体", "困难居民"),
    ("困难群众", "困难居民"),
    ("热线", "12345"),
    ("签约医生", "家庭医生"),
    ("预防接种", "疫苗接种"),
    ("打疫苗", "疫苗接种"),
    ("门诊", "接种点"),
    ("调配", "调拨"),
    ("出入库", "调拨"),
    ("一体化智能化公共数据平台", "公共数据平台"),
    ("大屏", "驾驶舱"),
    ("看板", "驾驶舱"),
    ("一张图", "地图"),
    ("gis", "地图"),
];

/// Terms nearly every function description has: no evidence of a duplicate.
pub const GENERIC: &[&str] = &[
    "系统", "平台", "管理", "功能", "模块", "实现", "支持", "提供", "进行", "相关", "包括", "以及", "通过", "自动", "在线", "信息", "数据",
    "服务", "工作", "情况", "部门", "单位", "人员", "全区", "各类", "一个", "实时", "智能", "建设", "应用", "记录", "根据", "对象",
];

/// Characters that join words rather than make them: a bigram across one is no term.
const FUNCTION_CHARS: &[char] =
    &['的', '和', '与', '及', '并', '对', '在', '等', '为', '由', '或', '将', '把', '被', '从', '向', '给', '了'];

/// The weighted overlap (with cosine) at which two texts are read as the same function (1.0).
pub const FULL_MATCH: f64 = 0.45;
/// How much the cosine counts beside the overlap.
const COSINE_SHARE: f64 = 0.4;
/// Terms shown as the reason of a match.
const REASON_TERMS: usize = 6;

/// A text's terms with their counts, in first-seen order.
pub fn terms(text: &str) -> Vec<(String, u32)> {
    let normalised = normalise(text);
    let mut out: Vec<(String, u32)> = Vec::new();
    let mut push = |t: String| match out.iter_mut().find(|(s, _)| *s == t) {
        Some((_, n)) => *n += 1,
        None => out.push((t, 1)),
    };
    let mut run: Vec<char> = Vec::new();
    let mut word = String::new();
    let flush_run = |run: &mut Vec<char>, push: &mut dyn FnMut(String)| {
        for w in run.windows(2) {
            if w.iter().any(|c| FUNCTION_CHARS.contains(c)) {
                continue;
            }
            let t: String = w.iter().collect();
            if !GENERIC.contains(&t.as_str()) {
                push(t);
            }
        }
        run.clear();
    };
    for c in normalised.chars() {
        if is_cjk(c) {
            if !word.is_empty() {
                push(std::mem::take(&mut word));
            }
            run.push(c);
        } else if c.is_ascii_alphanumeric() {
            flush_run(&mut run, &mut push);
            word.push(c);
        } else {
            flush_run(&mut run, &mut push);
            if !word.is_empty() {
                push(std::mem::take(&mut word));
            }
        }
    }
    flush_run(&mut run, &mut push);
    if !word.is_empty() {
        push(word);
    }
    out
}

fn is_cjk(c: char) -> bool {
    matches!(c, '\u{4e00}'..='\u{9fff}' | '\u{3400}'..='\u{4dbf}')
}

/// Full-width forms to half-width, lower case, synonyms to their canonical word.
pub fn normalise(text: &str) -> String {
    let mut s: String = text
        .chars()
        .map(|c| match c {
            '\u{ff01}'..='\u{ff5e}' => char::from_u32(c as u32 - 0xfee0).unwrap_or(c),
            '\u{3000}' => ' ',
            c => c,
        })
        .flat_map(char::to_lowercase)
        .collect();
    for (variant, canonical) in sorted_synonyms() {
        if s.contains(variant) {
            s = s.replace(variant, canonical);
        }
    }
    s
}

/// Synonyms longest variant first, so that 社区工作人员 is read before 工作.
fn sorted_synonyms() -> &'static [(&'static str, &'static str)] {
    static SORTED: std::sync::OnceLock<Vec<(&'static str, &'static str)>> = std::sync::OnceLock::new();
    SORTED.get_or_init(|| {
        let mut v = SYNONYMS.to_vec();
        v.sort_by_key(|(variant, _)| std::cmp::Reverse(variant.chars().count()));
        v
    })
}

/// One indexed function of a catalogue entry.
#[derive(Debug, Clone, PartialEq)]
pub struct IndexedFunction {
    /// The caller's key of the entry (its position in the caller's list).
    pub entry: usize,
    pub function: usize,
}

/// The catalogue's functions, indexed for screening.
#[derive(Debug, Default)]
pub struct Index {
    functions: Vec<IndexedFunction>,
    /// Per function: its total term weight and its norm.
    totals: Vec<(f64, f64)>,
    /// Term → (function, weight), functions ascending.
    postings: HashMap<String, Vec<(u32, f64)>>,
    idf: HashMap<String, f64>,
    /// The idf of a term no function has.
    unseen_idf: f64,
    /// One more than the highest entry key.
    entries: usize,
}

/// A function close to the screened text.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    pub entry: usize,
    pub function: usize,
    pub score: f64,
    pub shared_terms: Vec<String>,
}

fn weight(count: u32, idf: f64) -> f64 {
    (1.0 + f64::from(count).ln()) * idf
}

impl Index {
    /// Indexes `functions`: each is (entry key, function key, text).
    pub fn build<'a>(functions: impl IntoIterator<Item = (usize, usize, &'a str)>) -> Index {
        let docs: Vec<(IndexedFunction, Vec<(String, u32)>)> =
            functions.into_iter().map(|(entry, function, text)| (IndexedFunction { entry, function }, terms(text))).collect();
        let n = docs.len() as f64;
        let mut df: HashMap<&str, u32> = HashMap::new();
        for (_, ts) in &docs {
            for (t, _) in ts {
                *df.entry(t.as_str()).or_default() += 1;
            }
        }
        let idf: HashMap<String, f64> = df.iter().map(|(t, d)| (t.to_string(), (1.0 + n / f64::from(*d)).ln())).collect();
        let unseen_idf = (1.0 + n.max(1.0)).ln();
        let mut postings: HashMap<String, Vec<(u32, f64)>> = HashMap::new();
        let mut totals = Vec::with_capacity(docs.len());
        let mut functions = Vec::with_capacity(docs.len());
        for (i, (f, ts)) in docs.into_iter().enumerate() {
            let mut total = 0.0;
            let mut sq = 0.0;
            for (t, c) in ts {
                let w = weight(c, idf.get(&t).copied().unwrap_or(unseen_idf));
                total += w;
                sq += w * w;
                postings.entry(t).or_default().push((i as u32, w));
            }
            totals.push((total, sq.sqrt()));
            functions.push(f);
        }
        let entries = functions.iter().map(|f| f.entry + 1).max().unwrap_or(0);
        Index { functions, totals, postings, idf, unseen_idf, entries }
    }

    pub fn len(&self) -> usize {
        self.functions.len()
    }

    pub fn is_empty(&self) -> bool {
        self.functions.is_empty()
    }

    /// The best function of each of the `limit` closest entries, best first, scores above 0.
    pub fn screen(&self, text: &str, limit: usize) -> Vec<Hit> {
        let query: Vec<(String, f64)> =
            terms(text).into_iter().map(|(t, c)| (t.clone(), weight(c, self.idf.get(&t).copied().unwrap_or(self.unseen_idf)))).collect();
        let q_total: f64 = query.iter().map(|(_, w)| w).sum();
        let q_norm: f64 = query.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
        if query.is_empty() || self.functions.is_empty() {
            return vec![];
        }
        // Dense accumulators over the functions (sum of min weights, dot product) and the list of
        // those touched: no hashing on the hot path.
        let mut acc = vec![(0.0f64, 0.0f64); self.functions.len()];
        let mut touched: Vec<u32> = Vec::new();
        for (t, wq) in &query {
            if let Some(list) = self.postings.get(t) {
                for (doc, wd) in list {
                    let a = &mut acc[*doc as usize];
                    if a.1 == 0.0 {
                        touched.push(*doc);
                    }
                    a.0 += wq.min(*wd);
                    a.1 += wq * wd;
                }
            }
        }
        // The best function of each entry touched (dense over entries, as the accumulators).
        let mut best: Vec<(u32, f64)> = vec![(0, 0.0); self.entries];
        let mut entries: Vec<usize> = Vec::new();
        for doc in touched {
            let (overlap, dot) = acc[doc as usize];
            let (d_total, d_norm) = self.totals[doc as usize];
            let score = combine(overlap, dot, q_total, q_norm, d_total, d_norm);
            if score <= 0.0 {
                continue;
            }
            let entry = self.functions[doc as usize].entry;
            let b = &mut best[entry];
            if b.1 == 0.0 {
                entries.push(entry);
            }
            if score > b.1 || (score == b.1 && doc < b.0) {
                *b = (doc, score);
            }
        }
        let mut ranked: Vec<(usize, u32, f64)> = entries.into_iter().map(|e| (e, best[e].0, best[e].1)).collect();
        let order = |a: &(usize, u32, f64), b: &(usize, u32, f64)| b.2.total_cmp(&a.2).then(a.1.cmp(&b.1));
        if ranked.len() > limit && limit > 0 {
            ranked.select_nth_unstable_by(limit - 1, order);
            ranked.truncate(limit);
        }
        ranked.sort_by(order);
        ranked
            .into_iter()
            .take(limit)
            .map(|(entry, doc, score)| Hit {
                entry,
                function: self.functions[doc as usize].function,
                score,
                shared_terms: self.shared(&query, doc),
            })
            .collect()
    }

    /// The score of `text` against the indexed function `doc` alone (for the labelled pairs).
    pub fn score_against(&self, text: &str, doc: usize) -> f64 {
        let query: Vec<(String, f64)> =
            terms(text).into_iter().map(|(t, c)| (t.clone(), weight(c, self.idf.get(&t).copied().unwrap_or(self.unseen_idf)))).collect();
        let q_total: f64 = query.iter().map(|(_, w)| w).sum();
        let q_norm: f64 = query.iter().map(|(_, w)| w * w).sum::<f64>().sqrt();
        let (mut overlap, mut dot) = (0.0, 0.0);
        for (t, wq) in &query {
            if let Some(wd) = self.postings.get(t).and_then(|l| l.iter().find(|(d, _)| *d as usize == doc)).map(|(_, w)| *w) {
                overlap += wq.min(wd);
                dot += wq * wd;
            }
        }
        let Some(&(d_total, d_norm)) = self.totals.get(doc) else { return 0.0 };
        combine(overlap, dot, q_total, q_norm, d_total, d_norm)
    }

    fn shared(&self, query: &[(String, f64)], doc: u32) -> Vec<String> {
        let mut shared: Vec<(&str, f64)> = query
            .iter()
            .filter_map(|(t, wq)| {
                let list = self.postings.get(t)?;
                let i = list.binary_search_by_key(&doc, |(d, _)| *d).ok()?;
                Some((t.as_str(), wq.min(list[i].1)))
            })
            .collect();
        shared.sort_by(|a, b| b.1.total_cmp(&a.1));
        shared.into_iter().take(REASON_TERMS).map(|(t, _)| t.to_string()).collect()
    }
}

/// The score of one pair from its accumulated overlap and dot product (see the module docs).
fn combine(overlap: f64, dot: f64, q_total: f64, q_norm: f64, d_total: f64, d_norm: f64) -> f64 {
    let smaller = q_total.min(d_total);
    if smaller <= 0.0 || q_norm <= 0.0 || d_norm <= 0.0 {
        return 0.0;
    }
    let containment = overlap / smaller;
    let cosine = dot / (q_norm * d_norm);
    let raw = (1.0 - COSINE_SHARE) * containment + COSINE_SHARE * cosine;
    (raw / FULL_MATCH).clamp(0.0, 1.0)
}

/// R-I9's verdict of a module from its best score and the policy's thresholds.
pub fn verdict(best: f64, duplicate_score: f64, partial_duplicate_score: f64) -> super::ScreeningVerdict {
    if best >= duplicate_score {
        super::ScreeningVerdict::Duplicate
    } else if best >= partial_duplicate_score {
        super::ScreeningVerdict::PartialDuplicate
    } else {
        super::ScreeningVerdict::Distinct
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terms_are_bigrams_of_normalised_text() {
        let t: Vec<String> = terms("群众网上申请最低生活保障").into_iter().map(|(t, _)| t).collect();
        assert!(t.contains(&"居民".to_string()), "{t:?}");
        assert!(t.contains(&"低保".to_string()), "{t:?}");
        assert!(!t.iter().any(|x| x == "在线"), "generic terms are dropped: {t:?}");
        assert_eq!(normalise("ＡＢＣ１２３"), "abc123");
        assert!(terms("").is_empty());
        assert!(terms("的和与").is_empty());
    }

    #[test]
    fn identical_text_scores_one_and_unrelated_scores_low() {
        let idx = Index::build([(0, 0, "低保网上申办：群众在浙里办申请低保，自动比对家庭经济状况"), (1, 0, "河道水质自动监测，超标告警")]);
        let same = idx.screen("低保网上申办：群众在浙里办申请低保，自动比对家庭经济状况", 5);
        assert_eq!(same[0].entry, 0);
        assert!((same[0].score - 1.0).abs() < 1e-9, "{same:?}");
        assert!(same[0].shared_terms.contains(&"低保".to_string()));
        let other = idx.screen("党员先锋积分登记", 5);
        assert!(other.iter().all(|h| h.score < 0.3), "{other:?}");
        assert!(idx.screen("", 5).is_empty());
        assert!(Index::build([]).screen("低保", 5).is_empty());
    }

    #[test]
    fn one_hit_per_entry_best_function_first() {
        let idx = Index::build([(0, 0, "低保申请"), (0, 1, "低保资金发放统计"), (1, 0, "低保对象复核")]);
        let hits = idx.screen("低保资金发放", 5);
        assert_eq!(hits.len(), 2);
        assert_eq!((hits[0].entry, hits[0].function), (0, 1));
    }

    /// The labelled pairs of `data/screening-pairs.tsv`.
    fn pairs() -> Vec<(&'static str, &'static str, &'static str)> {
        include_str!("../../data/screening-pairs.tsv")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| {
                let mut c = l.split('\t');
                (c.next().unwrap(), c.next().unwrap(), c.next().unwrap())
            })
            .collect()
    }

    /// Every labelled pair's score: the catalogued texts indexed together, as a catalogue is.
    fn scored() -> Vec<(&'static str, f64)> {
        let pairs = pairs();
        let mut catalogued: Vec<&str> = pairs.iter().map(|p| p.2).collect();
        catalogued.sort_unstable();
        catalogued.dedup();
        let idx = Index::build(catalogued.iter().enumerate().map(|(i, t)| (i, 0, *t)));
        pairs.iter().map(|(label, a, b)| (*label, idx.score_against(a, catalogued.binary_search(b).unwrap()))).collect()
    }

    /// (precision, recall) of "flagged at `threshold`" for the pairs labelled `same`.
    fn precision_recall(scored: &[(&str, f64)], threshold: f64) -> (f64, f64) {
        let tp = scored.iter().filter(|(l, s)| *l == "same" && *s >= threshold).count() as f64;
        let fp = scored.iter().filter(|(l, s)| *l != "same" && *s >= threshold).count() as f64;
        let positives = scored.iter().filter(|(l, _)| *l == "same").count() as f64;
        (if tp + fp == 0.0 { 1.0 } else { tp / (tp + fp) }, tp / positives)
    }

    #[test]
    fn labelled_pairs_keep_their_precision_and_recall() {
        let scored = scored();
        assert!(scored.len() >= 120, "at least 120 labelled pairs");
        let policy = egov_platform::policy::PolicyBook::load("").unwrap().in_force(time::macros::date!(2026 - 06 - 01));
        let (p_dup, r_dup) = precision_recall(&scored, policy.duplicate_score);
        let (p_part, r_part) = precision_recall(&scored, policy.partial_duplicate_score);
        for label in ["same", "related", "unrelated"] {
            let mut s: Vec<f64> = scored.iter().filter(|(l, _)| *l == label).map(|(_, s)| *s).collect();
            s.sort_by(f64::total_cmp);
            eprintln!("{label}: n={} min={:.2} median={:.2} max={:.2}", s.len(), s[0], s[s.len() / 2], s[s.len() - 1]);
        }
        eprintln!("at duplicate_score {}: precision {p_dup:.3} recall {r_dup:.3}", policy.duplicate_score);
        eprintln!("at partial_duplicate_score {}: precision {p_part:.3} recall {r_part:.3}", policy.partial_duplicate_score);
        // What OVERVIEW.md reports; a change of method or data that does worse fails here.
        assert!(p_dup >= MEASURED.0 && r_dup >= MEASURED.1, "duplicate: precision {p_dup:.3} recall {r_dup:.3}");
        assert!(p_part >= MEASURED.2 && r_part >= MEASURED.3, "partial: precision {p_part:.3} recall {r_part:.3}");
        // No unrelated pair is ever flagged.
        assert!(scored.iter().filter(|(l, _)| *l == "unrelated").all(|(_, s)| *s < policy.partial_duplicate_score));
    }

    /// Precision and recall at duplicate_score, then at partial_duplicate_score, as measured.
    const MEASURED: (f64, f64, f64, f64) = (1.0, 0.85, 0.97, 0.95);
}

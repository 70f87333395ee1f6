//! R-R2 expert review (专家评审): the expert pool, the reproducible random panel draw, the
//! materials a project needs before it goes on a meeting, the experts' scores and the panel's
//! conclusion (pass/fail, recommended budget, mean scores).
//!
//! Pure: the caller loads the pool and the meeting's projects, picks and records the seed, and
//! stores the drawn panel in draw order, so that an auditor can replay the draw.

use std::collections::{BTreeMap, BTreeSet};

use egov_platform::{
    error::{FieldViolation, Refusal, RuleViolation},
    named_enum,
};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde::{Deserialize, Serialize};

/// One expert of the district's pool (专家库).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expert {
    pub expert_id: String,
    pub name: String,
    pub specialties: Vec<String>,
    /// A unit id, or the name of an outside organisation: an expert affiliated with a unit whose
    /// project is on the meeting is conflicted (回避).
    pub affiliation: String,
    pub available: bool,
}

impl Expert {
    fn has(&self, specialty: &str) -> bool {
        self.specialties.iter().any(|s| s == specialty)
    }
}

/// What a meeting's panel must contain.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct PanelRequest {
    /// Specialty → how many experts of it; each expert fills one place only.
    pub specialties: Vec<(String, u32)>,
    /// The lead and participating units of every project on the meeting.
    pub conflicted_units: Vec<String>,
}

/// Draws the panel for a meeting, reproducibly.
///
/// Eligible experts are the available ones not affiliated with a conflicted unit. They are
/// sorted by `expert_id` first, so the draw depends on the pool's content, not its order. Then,
/// specialty by specialty in the request's order, each place is filled by a uniformly random
/// eligible expert of that specialty not yet drawn; a candidate whose choice would leave a later
/// place impossible to fill (because experts with several specialties are shared) is set aside
/// and another drawn, so the draw succeeds whenever some panel meets the request.
///
/// The result is in draw order: the first `n₀` experts fill the request's first specialty, the
/// next `n₁` the second, and so on. Store it with the seed for audit.
///
/// Reproducibility: the generator is `rand::rngs::StdRng::seed_from_u64(seed)`. `rand` documents
/// that `StdRng`'s algorithm may change between its releases (it is ChaCha12 in rand 0.9), so a
/// recorded seed replays the draw with this build's `rand`; the stored draw order is the record
/// that outlives an upgrade.
///
/// Refusals: a malformed request is a field error; a specialty with fewer eligible experts than
/// asked is refused under R-R2, naming the specialty, the number needed and the number eligible
/// (one violation per short specialty).
pub fn draw_panel(pool: &[Expert], req: &PanelRequest, seed: u64) -> Result<Vec<Expert>, Refusal> {
    validate_request(req)?;

    let mut ids = BTreeSet::new();
    for e in pool {
        if !ids.insert(e.expert_id.as_str()) {
            return Err(Refusal::rule(
                "R-R2",
                "pool",
                format!("the expert pool holds expert {} twice: the pool is corrected first", e.expert_id),
            ));
        }
    }

    let conflicted: BTreeSet<&str> = req.conflicted_units.iter().map(String::as_str).collect();
    let mut eligible: Vec<&Expert> = pool.iter().filter(|e| e.available && !conflicted.contains(e.affiliation.as_str())).collect();
    eligible.sort_by(|a, b| a.expert_id.cmp(&b.expert_id));

    let short: Vec<RuleViolation> = req
        .specialties
        .iter()
        .filter_map(|(specialty, needed)| {
            let count = eligible.iter().filter(|e| e.has(specialty)).count();
            (count < *needed as usize).then(|| {
                RuleViolation::new(
                    "R-R2",
                    "panel",
                    format!(
                        "专家评审 / expert review: specialty {specialty:?} needs {needed} expert(s) but only {count} are eligible \
                         (available and not affiliated with a unit of a project on the meeting, 回避)"
                    ),
                )
            })
        })
        .collect();
    if !short.is_empty() {
        return Err(Refusal::Rules(short));
    }

    // Places still to fill, per specialty of the request.
    let mut remaining: Vec<u32> = req.specialties.iter().map(|(_, n)| *n).collect();
    let mut drawn: Vec<&Expert> = Vec::new();
    let total: u32 = remaining.iter().sum();
    let fillable = max_assignment(&req.specialties, &remaining, &eligible, &drawn);
    if fillable < total as usize {
        return Err(Refusal::rule(
            "R-R2",
            "panel",
            format!(
                "专家评审 / expert review: the specialties asked for need {total} different experts, but experts with several \
                 specialties count once and only {fillable} place(s) can be filled from the eligible pool"
            ),
        ));
    }

    let mut rng = StdRng::seed_from_u64(seed);
    for (i, (specialty, needed)) in req.specialties.iter().enumerate() {
        for _ in 0..*needed {
            let mut candidates: Vec<&Expert> =
                eligible.iter().copied().filter(|e| e.has(specialty) && !drawn.iter().any(|d| d.expert_id == e.expert_id)).collect();
            remaining[i] -= 1;
            let still_needed: u32 = remaining.iter().sum();
            loop {
                if candidates.is_empty() {
                    // The feasibility check above makes this unreachable.
                    return Err(Refusal::rule("R-R2", "panel", format!("no eligible expert of specialty {specialty} is left to draw")));
                }
                let pick = candidates.remove(rng.random_range(0..candidates.len()));
                drawn.push(pick);
                if max_assignment(&req.specialties, &remaining, &eligible, &drawn) == still_needed as usize {
                    break;
                }
                drawn.pop();
            }
        }
    }
    Ok(drawn.into_iter().cloned().collect())
}

fn validate_request(req: &PanelRequest) -> Result<(), Refusal> {
    let mut v = Vec::new();
    if req.specialties.is_empty() {
        v.push(FieldViolation::new("specialties", "name at least one specialty and how many experts of it"));
    }
    let mut seen = BTreeSet::new();
    for (i, (specialty, n)) in req.specialties.iter().enumerate() {
        if specialty.trim().is_empty() {
            v.push(FieldViolation::new(format!("specialties[{i}].specialty"), "required"));
        } else if !seen.insert(specialty.as_str()) {
            v.push(FieldViolation::new(format!("specialties[{i}].specialty"), format!("{specialty:?} is listed twice")));
        }
        if *n == 0 {
            v.push(FieldViolation::new(format!("specialties[{i}].count"), "at least 1"));
        }
    }
    if v.is_empty() { Ok(()) } else { Err(Refusal::Fields(v)) }
}

/// How many of the `remaining` places can be filled at once by distinct eligible experts not
/// yet `drawn` (a maximum bipartite matching of places to experts, by augmenting paths).
fn max_assignment(specialties: &[(String, u32)], remaining: &[u32], eligible: &[&Expert], drawn: &[&Expert]) -> usize {
    let free: Vec<&Expert> = eligible.iter().copied().filter(|e| !drawn.iter().any(|d| d.expert_id == e.expert_id)).collect();
    let places: Vec<Vec<usize>> = specialties
        .iter()
        .zip(remaining)
        .flat_map(|((specialty, _), n)| {
            let fit: Vec<usize> = free.iter().enumerate().filter(|(_, e)| e.has(specialty)).map(|(j, _)| j).collect();
            std::iter::repeat_n(fit, *n as usize)
        })
        .collect();
    let mut holder: Vec<Option<usize>> = vec![None; free.len()];
    let mut filled = 0;
    for place in 0..places.len() {
        let mut seen = vec![false; free.len()];
        if augment(place, &places, &mut holder, &mut seen) {
            filled += 1;
        }
    }
    filled
}

fn augment(place: usize, places: &[Vec<usize>], holder: &mut [Option<usize>], seen: &mut [bool]) -> bool {
    for &expert in &places[place] {
        if seen[expert] {
            continue;
        }
        seen[expert] = true;
        let free = match holder[expert] {
            None => true,
            Some(other) => augment(other, places, holder, seen),
        };
        if free {
            holder[expert] = Some(place);
            return true;
        }
    }
    false
}

// ------------------------------------------------------------------ materials

named_enum!(
    /// What the unit uploads before its project goes on an expert review meeting (上会材料).
    pub enum MaterialKind {
        RevisedFeasibilityReport = "REVISED_FEASIBILITY_REPORT",
        RevisionList = "REVISION_LIST",
        Presentation = "PRESENTATION",
    }
);

impl MaterialKind {
    /// Chinese term and English name, for refusals.
    pub fn label(self) -> &'static str {
        match self {
            MaterialKind::RevisedFeasibilityReport => "修改后的可行性研究报告 / revised feasibility report",
            MaterialKind::RevisionList => "修改详细清单 / detailed revision list",
            MaterialKind::Presentation => "汇报PPT / presentation",
        }
    }
}

/// A project goes on a meeting only when all three materials are uploaded; the refusal (R-R2)
/// has one violation per missing kind.
pub fn check_materials(uploaded: &[MaterialKind]) -> Result<(), Refusal> {
    let missing: Vec<RuleViolation> = MaterialKind::ALL
        .iter()
        .filter(|k| !uploaded.contains(k))
        .map(|k| {
            RuleViolation::new(
                "R-R2",
                "materials",
                format!("专家评审会前须上传 / before the expert review meeting the unit must upload: {}", k.label()),
            )
        })
        .collect();
    if missing.is_empty() { Ok(()) } else { Err(Refusal::Rules(missing)) }
}

// ------------------------------------------------------------------ scores and conclusion

named_enum!(
    /// What the experts assess (评审维度).
    pub enum Dimension {
        ResourceConsolidation = "RESOURCE_CONSOLIDATION",
        TechnicalSolution = "TECHNICAL_SOLUTION",
        DataSharing = "DATA_SHARING",
        SecurityAssurance = "SECURITY_ASSURANCE",
        CostEstimate = "COST_ESTIMATE",
    }
);

impl Dimension {
    /// Chinese term and English name, for errors.
    pub fn label(self) -> &'static str {
        match self {
            Dimension::ResourceConsolidation => "资源整合 / resource consolidation",
            Dimension::TechnicalSolution => "技术方案 / technical solution",
            Dimension::DataSharing => "数据共享 / data sharing",
            Dimension::SecurityAssurance => "安全保障 / security assurance",
            Dimension::CostEstimate => "投资估算 / cost estimate",
        }
    }
}

/// The highest score of a dimension.
pub const MAX_SCORE: u32 = 100;

/// One expert's assessment of one project.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpertScore {
    pub expert_id: String,
    /// Every [`Dimension`] exactly once, each `0..=MAX_SCORE`.
    pub scores: Vec<(Dimension, u32)>,
    pub opinion: String,
}

/// Checks one expert's score sheet: the expert sits on the panel, each dimension is scored once
/// within `0..=100`, and the opinion is written. Every problem is reported, by field.
pub fn validate_score(s: &ExpertScore, panel: &[Expert]) -> Result<(), Refusal> {
    let v = score_violations(s, panel, "");
    if v.is_empty() { Ok(()) } else { Err(Refusal::Fields(v)) }
}

fn score_violations(s: &ExpertScore, panel: &[Expert], prefix: &str) -> Vec<FieldViolation> {
    let mut v = Vec::new();
    if !panel.iter().any(|e| e.expert_id == s.expert_id) {
        v.push(FieldViolation::new(format!("{prefix}expert_id"), format!("{} is not on this meeting's panel", s.expert_id)));
    }
    let mut seen = BTreeSet::new();
    for (i, (d, score)) in s.scores.iter().enumerate() {
        if !seen.insert(*d) {
            v.push(FieldViolation::new(format!("{prefix}scores[{i}]"), format!("{} is scored twice", d.label())));
        }
        if *score > MAX_SCORE {
            v.push(FieldViolation::new(format!("{prefix}scores[{i}]"), format!("{score} is outside 0..={MAX_SCORE}")));
        }
    }
    for d in Dimension::ALL.iter().filter(|d| !seen.contains(d)) {
        v.push(FieldViolation::new(format!("{prefix}scores"), format!("{} is not scored", d.label())));
    }
    if s.opinion.trim().is_empty() {
        v.push(FieldViolation::new(format!("{prefix}opinion"), "the expert opinion (评审意见) is required"));
    }
    v
}

/// The panel's conclusion on one project (专家评审意见): the basis of approval, budget and
/// acceptance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PanelConclusion {
    pub passed: bool,
    pub recommended_budget_fen: i64,
    /// Per dimension, in [`Dimension::ALL`] order: the mean of the experts' scores in hundredths
    /// of a point (8_667 is 86.67), rounded half up.
    pub mean_scores: Vec<(Dimension, u32)>,
    /// How many experts scored.
    pub experts: usize,
}

/// Concludes a project's expert review once every panel expert has scored.
///
/// Refused under R-R2 while any panel expert has not scored (naming them); score sheets that
/// are malformed, from outside the panel or duplicated, and a recommended budget outside
/// `1..=applied_budget_fen`, are field errors.
pub fn conclude(
    panel: &[Expert],
    scores: &[ExpertScore],
    passed: bool,
    recommended_budget_fen: i64,
    applied_budget_fen: i64,
) -> Result<PanelConclusion, Refusal> {
    if panel.is_empty() {
        return Err(Refusal::rule("R-R2", "panel", "专家评审 / expert review: no panel has been drawn for this meeting"));
    }
    let scored: BTreeSet<&str> = scores.iter().map(|s| s.expert_id.as_str()).collect();
    let waiting: Vec<String> =
        panel.iter().filter(|e| !scored.contains(e.expert_id.as_str())).map(|e| format!("{} ({})", e.name, e.expert_id)).collect();
    if !waiting.is_empty() {
        return Err(Refusal::rule(
            "R-R2",
            "scores",
            format!(
                "专家评审 / expert review: {} of {} panel expert(s) have not scored yet: {}",
                waiting.len(),
                panel.len(),
                waiting.join(", ")
            ),
        ));
    }

    let mut v = Vec::new();
    let mut by_expert = BTreeSet::new();
    for (i, s) in scores.iter().enumerate() {
        if !by_expert.insert(s.expert_id.as_str()) {
            v.push(FieldViolation::new(format!("scores[{i}].expert_id"), format!("{} has already scored", s.expert_id)));
        }
        v.extend(score_violations(s, panel, &format!("scores[{i}].")));
    }
    if applied_budget_fen <= 0 {
        v.push(FieldViolation::new("applied_budget_fen", "the applied budget must be positive"));
    } else if !(1..=applied_budget_fen).contains(&recommended_budget_fen) {
        v.push(FieldViolation::new(
            "recommended_budget_fen",
            format!("the recommended budget (预算建议) must be 1..={applied_budget_fen} fen (at most the applied budget)"),
        ));
    }
    if !v.is_empty() {
        return Err(Refusal::Fields(v));
    }

    let n = scores.len() as u64;
    let mut sums: BTreeMap<Dimension, u64> = BTreeMap::new();
    for (d, score) in scores.iter().flat_map(|s| &s.scores) {
        *sums.entry(*d).or_default() += u64::from(*score);
    }
    let mean_scores = Dimension::ALL
        .iter()
        .map(|d| {
            let hundredths = (sums.get(d).copied().unwrap_or(0) * 200 + n) / (2 * n);
            // A mean of scores ≤ 100 is at most 10_000 hundredths.
            (*d, hundredths as u32)
        })
        .collect();
    Ok(PanelConclusion { passed, recommended_budget_fen, mean_scores, experts: scores.len() })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expert(id: &str, specialties: &[&str], affiliation: &str) -> Expert {
        Expert {
            expert_id: id.into(),
            name: format!("专家{id}"),
            specialties: specialties.iter().map(|s| s.to_string()).collect(),
            affiliation: affiliation.into(),
            available: true,
        }
    }

    /// 30 experts over three specialties, each from a different organisation.
    fn pool30() -> Vec<Expert> {
        let specs = ["SOFTWARE", "SECURITY", "DATA"];
        (0..30).map(|i| expert(&format!("E{i:02}"), &[specs[i % 3]], &format!("ORG-{i}"))).collect()
    }

    fn request(specs: &[(&str, u32)], conflicted: &[&str]) -> PanelRequest {
        PanelRequest {
            specialties: specs.iter().map(|(s, n)| (s.to_string(), *n)).collect(),
            conflicted_units: conflicted.iter().map(|s| s.to_string()).collect(),
        }
    }

    fn ids(panel: &[Expert]) -> Vec<&str> {
        panel.iter().map(|e| e.expert_id.as_str()).collect()
    }

    fn full_score(id: &str, value: u32) -> ExpertScore {
        ExpertScore { expert_id: id.into(), scores: Dimension::ALL.iter().map(|d| (*d, value)).collect(), opinion: "同意".into() }
    }

    fn fields(e: &Refusal) -> Vec<String> {
        match e {
            Refusal::Fields(v) => v.iter().map(|f| f.field.clone()).collect(),
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn same_seed_same_panel_whatever_the_pool_order() {
        let pool = pool30();
        let req = request(&[("SOFTWARE", 3), ("SECURITY", 2)], &[]);
        let a = draw_panel(&pool, &req, 42).unwrap();
        let mut reversed = pool.clone();
        reversed.reverse();
        assert_eq!(a, draw_panel(&pool, &req, 42).unwrap());
        assert_eq!(a, draw_panel(&reversed, &req, 42).unwrap());
        assert_eq!(a.len(), 5);
        // Draw order follows the request: software places first, then security.
        assert!(a[..3].iter().all(|e| e.has("SOFTWARE")));
        assert!(a[3..].iter().all(|e| e.has("SECURITY")));
    }

    #[test]
    fn different_seeds_draw_different_panels() {
        let pool = pool30();
        let req = request(&[("SOFTWARE", 3), ("DATA", 2)], &[]);
        let first = draw_panel(&pool, &req, 0).unwrap();
        assert!((1..6).any(|seed| draw_panel(&pool, &req, seed).unwrap() != first));
    }

    #[test]
    fn conflicted_and_unavailable_experts_are_never_drawn() {
        let mut pool = pool30();
        pool[0].affiliation = "U-CIVIL".into(); // SOFTWARE
        pool[4].affiliation = "U-HEALTH".into(); // SECURITY
        pool[3].available = false; // SOFTWARE
        let req = request(&[("SOFTWARE", 4), ("SECURITY", 3)], &["U-CIVIL", "U-HEALTH"]);
        for seed in 0..200 {
            let panel = draw_panel(&pool, &req, seed).unwrap();
            assert!(panel.iter().all(|e| !["E00", "E03", "E04"].contains(&e.expert_id.as_str())), "seed {seed}: {:?}", ids(&panel));
        }
    }

    #[test]
    fn specialty_with_exactly_three_eligible_boundary() {
        let mut pool = vec![
            expert("A1", &["ARCH"], "ORG-1"),
            expert("A2", &["ARCH"], "ORG-2"),
            expert("A3", &["ARCH"], "ORG-3"),
            expert("A4", &["ARCH"], "U-CIVIL"),
            expert("A5", &["ARCH"], "ORG-5"),
        ];
        pool[4].available = false;
        for (asked, ok) in [(2, true), (3, true), (4, false)] {
            let got = draw_panel(&pool, &request(&[("ARCH", asked)], &["U-CIVIL"]), 7);
            match (ok, got) {
                (true, Ok(panel)) => assert_eq!(panel.len(), asked as usize),
                (false, Err(e)) => {
                    assert_eq!(e.rule_ids(), vec!["R-R2"]);
                    let text = e.to_string();
                    assert!(text.contains("\"ARCH\"") && text.contains("needs 4") && text.contains("only 3"), "{text}");
                }
                (ok, got) => panic!("asking {asked}: expected ok={ok}, got {got:?}"),
            }
        }
        // All three eligible are drawn when three are asked, whatever the seed.
        for seed in 0..20 {
            let panel = draw_panel(&pool, &request(&[("ARCH", 3)], &["U-CIVIL"]), seed).unwrap();
            let mut got = ids(&panel);
            got.sort();
            assert_eq!(got, vec!["A1", "A2", "A3"]);
        }
    }

    #[test]
    fn an_expert_with_two_specialties_is_drawn_once() {
        let pool = vec![expert("X", &["SECURITY", "DATA"], "ORG-X"), expert("S", &["SECURITY"], "ORG-S"), expert("D", &["DATA"], "ORG-D")];
        for seed in 0..100 {
            let panel = draw_panel(&pool, &request(&[("SECURITY", 1), ("DATA", 2)], &[]), seed).unwrap();
            let mut got = ids(&panel);
            // DATA needs both X and D, so SECURITY must take S.
            assert_eq!(got[0], "S", "seed {seed}");
            got.sort();
            assert_eq!(got, vec!["D", "S", "X"], "seed {seed}");
        }
        // Each specialty alone has enough, but together they need 3 different experts of 2.
        let two = vec![expert("X", &["SECURITY", "DATA"], "ORG-X"), expert("Y", &["SECURITY", "DATA"], "ORG-Y")];
        let e = draw_panel(&two, &request(&[("SECURITY", 1), ("DATA", 2)], &[]), 1).unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-R2"]);
        assert!(e.to_string().contains("need 3 different experts"), "{e}");
    }

    #[test]
    fn malformed_request_is_a_field_error() {
        let pool = pool30();
        assert_eq!(fields(&draw_panel(&pool, &request(&[], &[]), 1).unwrap_err()), vec!["specialties"]);
        assert_eq!(
            fields(&draw_panel(&pool, &request(&[("DATA", 0), ("DATA", 1), (" ", 1)], &[]), 1).unwrap_err()),
            vec!["specialties[0].count", "specialties[1].specialty", "specialties[2].specialty"]
        );
    }

    #[test]
    fn short_specialties_are_all_reported() {
        let e = draw_panel(&pool30(), &request(&[("SOFTWARE", 11), ("LAW", 1), ("DATA", 2)], &[]), 1).unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-R2", "R-R2"]);
    }

    #[test]
    fn materials_all_three_required() {
        use MaterialKind::*;
        assert!(check_materials(&[Presentation, RevisionList, RevisedFeasibilityReport]).is_ok());
        for (uploaded, missing) in [
            (vec![RevisionList, Presentation], "修改后的可行性研究报告"),
            (vec![RevisedFeasibilityReport, Presentation], "修改详细清单"),
            (vec![RevisedFeasibilityReport, RevisionList], "汇报PPT"),
        ] {
            let e = check_materials(&uploaded).unwrap_err();
            assert_eq!(e.rule_ids(), vec!["R-R2"]);
            assert!(e.to_string().contains(missing), "{e}");
        }
        let none = check_materials(&[]).unwrap_err();
        assert_eq!(none.rule_ids().len(), 3);
    }

    #[test]
    fn score_sheet_validation_names_fields() {
        let panel = vec![expert("E1", &["DATA"], "ORG-1")];
        assert!(validate_score(&full_score("E1", 100), &panel).is_ok());
        assert!(validate_score(&full_score("E1", 0), &panel).is_ok());

        assert_eq!(fields(&validate_score(&full_score("E9", 80), &panel).unwrap_err()), vec!["expert_id"]);

        let mut s = full_score("E1", 80);
        s.scores[2].1 = 101;
        s.scores[4] = (Dimension::ResourceConsolidation, 70);
        s.opinion = "  ".into();
        assert_eq!(fields(&validate_score(&s, &panel).unwrap_err()), vec!["scores[2]", "scores[4]", "scores", "opinion"]);
        let text = validate_score(&s, &panel).unwrap_err().to_string();
        assert!(text.contains("投资估算") && text.contains("scored twice"), "{text}");
    }

    #[test]
    fn conclusion_waits_for_every_expert() {
        let panel = vec![expert("E1", &["DATA"], "O1"), expert("E2", &["DATA"], "O2"), expert("E3", &["DATA"], "O3")];
        let scores = vec![full_score("E1", 80), full_score("E3", 90)];
        let e = conclude(&panel, &scores, true, 900_000, 1_000_000).unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-R2"]);
        assert!(e.to_string().contains("E2"), "{e}");
        assert_eq!(conclude(&[], &[], true, 1, 1).unwrap_err().rule_ids(), vec!["R-R2"]);
    }

    #[test]
    fn conclusion_means_in_hundredths() {
        let panel = vec![expert("E1", &["DATA"], "O1"), expert("E2", &["DATA"], "O2"), expert("E3", &["DATA"], "O3")];
        let mut s1 = full_score("E1", 80);
        s1.scores[0].1 = 100;
        let scores = vec![s1, full_score("E2", 90), full_score("E3", 90)];
        let c = conclude(&panel, &scores, true, 900_000, 1_000_000).unwrap();
        assert_eq!(c.experts, 3);
        assert!(c.passed);
        assert_eq!(c.recommended_budget_fen, 900_000);
        // (100+90+90)/3 = 93.33…; (80+90+90)/3 = 86.666… → 86.67.
        assert_eq!(c.mean_scores[0], (Dimension::ResourceConsolidation, 9_333));
        assert_eq!(c.mean_scores[4], (Dimension::CostEstimate, 8_667));
        assert_eq!(c.mean_scores.iter().map(|(d, _)| *d).collect::<Vec<_>>(), Dimension::ALL);
    }

    #[test]
    fn recommended_budget_boundaries() {
        let panel = vec![expert("E1", &["DATA"], "O1")];
        let scores = vec![full_score("E1", 75)];
        let applied = 1_000_000;
        for (recommended, ok) in [(-1, false), (0, false), (1, true), (applied, true), (applied + 1, false)] {
            match conclude(&panel, &scores, false, recommended, applied) {
                Ok(c) => assert!(ok && c.recommended_budget_fen == recommended, "{recommended}"),
                Err(e) => assert!(!ok && fields(&e) == vec!["recommended_budget_fen"], "{recommended}: {e}"),
            }
        }
        assert_eq!(fields(&conclude(&panel, &scores, true, 1, 0).unwrap_err()), vec!["applied_budget_fen"]);
    }

    #[test]
    fn conclusion_refuses_outside_and_duplicate_sheets() {
        let panel = vec![expert("E1", &["DATA"], "O1")];
        let scores = vec![full_score("E1", 75), full_score("E1", 80), full_score("E7", 80)];
        assert_eq!(fields(&conclude(&panel, &scores, true, 1, 1).unwrap_err()), vec!["scores[1].expert_id", "scores[2].expert_id"]);
    }
}

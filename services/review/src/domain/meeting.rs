//! Expert review meetings (专家评审会, R-R2), held in batches: cases are scheduled once their
//! materials are in, the panel is drawn once for the meeting, each panel expert scores each case;
//! and the expert pool the panels are drawn from. Each transition returns its change as data.

use egov_platform::{
    error::Refusal,
    transition::{Aggregate, Change, Context},
};
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{
    ReviewCase, Stage,
    panel::{self, Expert, ExpertScore, MaterialKind, PanelRequest},
    rules::stage_words,
};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Meeting {
    pub meeting_id: Uuid,
    pub held_on: Date,
    pub specialties: Vec<(String, u32)>,
    pub case_ids: Vec<Uuid>,
    /// Recorded with the draw, so the draw can be reproduced.
    pub seed: Option<u64>,
    /// In draw order; empty until drawn.
    pub panel: Vec<Expert>,
    pub scores: Vec<(Uuid, ExpertScore)>,
    pub version: i64,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

/// A meeting spans projects and is pinned to no policy version: its changes record the version
/// in force (or the scheduled case's) and, where one project is concerned, that project.
impl Aggregate for Meeting {
    const NAME: &'static str = "the meeting";
    fn resource(&self) -> String {
        format!("meetings/{}", self.meeting_id)
    }
    fn project_id(&self) -> String {
        String::new()
    }
    fn policy_version(&self) -> &str {
        ""
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn set_version(&mut self, version: i64) {
        self.version = version;
    }
}

/// An expert of the pool with the version of its record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolExpert {
    pub expert: Expert,
    pub version: i64,
}

impl Aggregate for PoolExpert {
    const NAME: &'static str = "the expert";
    fn resource(&self) -> String {
        format!("experts/{}", self.expert.expert_id)
    }
    fn project_id(&self) -> String {
        String::new()
    }
    fn policy_version(&self) -> &str {
        ""
    }
    fn version(&self) -> i64 {
        self.version
    }
    fn set_version(&mut self, version: i64) {
        self.version = version;
    }
}

/// A new expert of the pool (available).
pub fn add_expert(expert: Expert, ctx: Context<'_>) -> Change<PoolExpert> {
    Change::new(PoolExpert { expert, version: 1 }, "CreateExpert").rules(&["R-R2"]).under_policy(ctx.policy.version.clone())
}

/// An expert becomes available for draws, or stops being.
pub fn set_availability(e: &PoolExpert, available: bool, ctx: Context<'_>) -> Change<PoolExpert> {
    let mut next = e.clone();
    next.expert.available = available;
    Change::new(next, "SetExpertAvailability").rules(&["R-R2"]).under_policy(ctx.policy.version.clone())
}

/// A meeting planned for `held_on`, needing `specialties` (specialty, how many experts).
pub fn create(meeting_id: Uuid, held_on: Date, specialties: Vec<(String, u32)>, ctx: Context<'_>) -> Change<Meeting> {
    let m = Meeting {
        meeting_id,
        held_on,
        specialties,
        case_ids: vec![],
        seed: None,
        panel: vec![],
        scores: vec![],
        version: 1,
        created_at: ctx.now,
    };
    Change::new(m, "CreateMeeting").rules(&["R-R2"]).under_policy(ctx.policy.version.clone())
}

/// The materials a case has uploaded (R-R2).
pub fn materials(case: &ReviewCase) -> Vec<MaterialKind> {
    case.expert.documents.iter().filter_map(|d| MaterialKind::parse(&d.kind)).collect()
}

/// A case goes on a meeting before its panel is drawn, in expert review, with all materials in:
/// the meeting lists it and the case names its meeting (two changes, one transaction).
pub fn schedule(meeting: &Meeting, case: &ReviewCase) -> Result<(Change<Meeting>, Change<ReviewCase>), Refusal> {
    if !meeting.panel.is_empty() {
        return Err(Refusal::rule(
            "R-R2",
            "meeting",
            "专家评审 / expert review: the panel of this meeting is already drawn; schedule the case on another meeting",
        ));
    }
    if case.stage != Stage::ExpertReview || case.expert.conclusion.is_some() {
        return Err(Refusal::rule(
            "R-R2",
            "stage",
            format!(
                "专家评审 / expert review: a case awaiting its expert review is scheduled on a meeting (after the preliminary \
                 review passed); this case is {}",
                stage_words(case.stage)
            ),
        ));
    }
    if let Some(m) = case.expert.meeting_id {
        return Err(Refusal::rule("R-R2", "meeting", format!("专家评审 / expert review: the case is already on meeting {m}")));
    }
    panel::check_materials(&materials(case))?;
    let mut m = meeting.clone();
    m.case_ids.push(case.case_id);
    let mut k = case.clone();
    k.expert.meeting_id = Some(meeting.meeting_id);
    let on_meeting =
        Change::new(m, "ScheduleCase").rules(&["R-R2"]).about_project(case.case_id.to_string()).under_policy(case.policy_version.clone());
    let on_case = Change::new(k, "ScheduleCase").rules(&["R-R2"]).detail("meeting_id", meeting.meeting_id.to_string());
    Ok((on_meeting, on_case))
}

/// Draws the meeting's panel, excluding experts of every unit whose project is on it; the seed,
/// panel and cases go in the audit record so that the draw can be replayed.
pub fn draw(meeting: &Meeting, pool: &[Expert], cases: &[ReviewCase], seed: u64, ctx: Context<'_>) -> Result<Change<Meeting>, Refusal> {
    if !meeting.panel.is_empty() {
        return Err(Refusal::rule("R-R2", "panel", "专家评审 / expert review: the panel of this meeting is already drawn, once"));
    }
    if meeting.case_ids.is_empty() {
        return Err(Refusal::rule("R-R2", "case_ids", "no project is scheduled on this meeting yet"));
    }
    let mut conflicted: Vec<String> = cases.iter().flat_map(|c| c.units().cloned()).collect();
    conflicted.sort();
    conflicted.dedup();
    let panel = panel::draw_panel(pool, &PanelRequest { specialties: meeting.specialties.clone(), conflicted_units: conflicted }, seed)?;
    let ids: Vec<&str> = panel.iter().map(|e| e.expert_id.as_str()).collect();
    let details = serde_json::json!({ "seed": seed.to_string(), "panel": ids, "cases": meeting.case_ids });
    let mut m = meeting.clone();
    m.panel = panel;
    m.seed = Some(seed);
    let mut change = Change::new(m, "DrawPanel").rules(&["R-R2"]).under_policy(ctx.policy.version.clone());
    if let serde_json::Value::Object(d) = details {
        change.effects.details.extend(d);
    }
    Ok(change)
}

/// Whether `expert_id` has scored `case_id` on this meeting already.
pub fn has_scored(meeting: &Meeting, case_id: Uuid, expert_id: &str) -> bool {
    meeting.scores.iter().any(|(c, x)| *c == case_id && x.expert_id == expert_id)
}

/// A panel expert scores a case of the meeting, once.
pub fn score(meeting: &Meeting, case_id: Uuid, s: ExpertScore, ctx: Context<'_>) -> Result<Change<Meeting>, Refusal> {
    if !meeting.case_ids.contains(&case_id) {
        return Err(Refusal::field("case_id", "the case is not on this meeting"));
    }
    if meeting.panel.is_empty() {
        return Err(Refusal::rule("R-R2", "panel", "the panel is not drawn yet"));
    }
    panel::validate_score(&s, &meeting.panel)?;
    if has_scored(meeting, case_id, &s.expert_id) {
        return Err(Refusal::rule("R-R2", "scores", format!("expert {} has already scored this case: once each", s.expert_id)));
    }
    let mut m = meeting.clone();
    m.scores.push((case_id, s));
    Ok(Change::new(m, "SubmitExpertScore").rules(&["R-R2"]).about_project(case_id.to_string()).under_policy(ctx.policy.version.clone()))
}

/// The scores of one case.
pub fn scores_of(meeting: &Meeting, case_id: Uuid) -> Vec<ExpertScore> {
    meeting.scores.iter().filter(|(c, _)| *c == case_id).map(|(_, s)| s.clone()).collect()
}

/// After a pass the unit uploads the revised report and revision list again before re-check.
pub fn revised_after_conclusion(case: &ReviewCase) -> bool {
    let Some(c) = &case.expert.conclusion else { return false };
    let after = |k: MaterialKind| case.expert.documents.iter().any(|d| d.kind == k.as_str() && d.uploaded_at > c.concluded_at);
    c.passed && after(MaterialKind::RevisedFeasibilityReport) && after(MaterialKind::RevisionList)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{CaseDocument, Dossier, ExpertConclusion, rules};
    use time::macros::{date, datetime};

    fn case(unit: &str) -> ReviewCase {
        let mut c = rules::open_case(
            Uuid::now_v7(),
            Dossier {
                lead_unit_id: unit.into(),
                participating_unit_ids: vec!["U-PART".into()],
                total_budget_fen: 1_000_000,
                ..Default::default()
            },
            vec![],
            "2026.1-draft".into(),
            datetime!(2026-03-02 02:00 UTC),
        );
        c.stage = Stage::ExpertReview;
        c
    }

    fn doc(kind: MaterialKind, at: OffsetDateTime) -> CaseDocument {
        CaseDocument {
            document_id: Uuid::now_v7(),
            kind: kind.as_str().into(),
            file_name: "f".into(),
            size_bytes: 1,
            sha256: String::new(),
            sm3: String::new(),
            uploaded_by: "u".into(),
            uploaded_at: at,
        }
    }

    fn meeting() -> Meeting {
        Meeting {
            meeting_id: Uuid::now_v7(),
            held_on: date!(2026 - 04 - 10),
            specialties: vec![("IT".into(), 3)],
            case_ids: vec![],
            seed: None,
            panel: vec![],
            scores: vec![],
            version: 1,
            created_at: datetime!(2026-03-01 02:00 UTC),
        }
    }

    fn ctx() -> Context<'static> {
        static POLICY: std::sync::LazyLock<std::sync::Arc<egov_platform::policy::Policy>> =
            std::sync::LazyLock::new(|| egov_platform::policy::PolicyBook::load("").unwrap().in_force(date!(2026 - 06 - 01)));
        Context::new(datetime!(2026-03-05 02:00 UTC), &POLICY)
    }

    fn expert(id: &str, affiliation: &str) -> Expert {
        Expert { expert_id: id.into(), name: id.into(), specialties: vec!["IT".into()], affiliation: affiliation.into(), available: true }
    }

    #[test]
    fn r_r2_a_meeting_is_refused_until_the_presentation_is_uploaded() {
        let mut c = case("U-CIVIL");
        let m = meeting();
        let t = datetime!(2026-03-05 02:00 UTC);
        c.expert.documents = vec![doc(MaterialKind::RevisedFeasibilityReport, t), doc(MaterialKind::RevisionList, t)];
        let e = schedule(&m, &c).map(|_| ()).unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-R2"]);
        assert!(e.to_string().contains("汇报PPT"));
        c.expert.documents.push(doc(MaterialKind::Presentation, t));
        let (on_meeting, on_case) = schedule(&m, &c).unwrap();
        assert_eq!(on_meeting.state.case_ids, vec![c.case_id]);
        assert_eq!(on_case.state.expert.meeting_id, Some(m.meeting_id));
        assert_eq!(on_meeting.effects.project_id, Some(c.case_id.to_string()));
    }

    #[test]
    fn r_r2_the_draw_excludes_every_unit_on_the_meeting() {
        let a = case("U-CIVIL");
        let b = case("U-HEALTH");
        let mut m = meeting();
        m.case_ids = vec![a.case_id, b.case_id];
        let pool = vec![
            expert("e1", "U-CIVIL"),
            expert("e2", "U-HEALTH"),
            expert("e3", "U-PART"),
            expert("e4", "浙大"),
            expert("e5", "市信息中心"),
            expert("e6", "之江实验室"),
        ];
        for seed in 0..50 {
            let panel = draw(&m, &pool, &[a.clone(), b.clone()], seed, ctx()).unwrap().state.panel;
            assert_eq!(panel.len(), 3);
            assert!(panel.iter().all(|e| ["e4", "e5", "e6"].contains(&e.expert_id.as_str())));
        }
        // One more conflicted expert short: refused with R-R2.
        let short = vec![expert("e1", "U-CIVIL"), expert("e4", "浙大"), expert("e5", "市信息中心")];
        assert_eq!(draw(&m, &short, &[a, b], 7, ctx()).unwrap_err().rule_ids(), vec!["R-R2"]);
    }

    #[test]
    fn revised_materials_after_a_pass() {
        let mut c = case("U-CIVIL");
        let concluded = datetime!(2026-04-10 08:00 UTC);
        c.expert.documents = vec![doc(MaterialKind::RevisedFeasibilityReport, datetime!(2026-03-05 02:00 UTC))];
        c.expert.conclusion = Some(ExpertConclusion {
            passed: true,
            recommended_budget_fen: 900_000,
            opinion: "通过".into(),
            mean_scores: vec![],
            experts: vec![],
            concluded_by: "drb".into(),
            concluded_at: concluded,
        });
        assert!(!revised_after_conclusion(&c));
        c.expert.documents.push(doc(MaterialKind::RevisedFeasibilityReport, concluded + time::Duration::days(1)));
        assert!(!revised_after_conclusion(&c), "the revision list too");
        c.expert.documents.push(doc(MaterialKind::RevisionList, concluded + time::Duration::days(2)));
        assert!(revised_after_conclusion(&c));
    }
}

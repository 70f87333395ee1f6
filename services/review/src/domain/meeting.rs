//! Expert review meetings (专家评审会, R-R2), held in batches: cases are scheduled once their
//! materials are in, the panel is drawn once for the meeting, each panel expert scores each case.

use egov_platform::error::AppError;
use serde::{Deserialize, Serialize};
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::{
    ReviewCase, Stage,
    panel::{self, Expert, ExpertScore, MaterialKind, PanelRequest},
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

/// The materials a case has uploaded (R-R2).
pub fn materials(case: &ReviewCase) -> Vec<MaterialKind> {
    case.expert.documents.iter().filter_map(|d| MaterialKind::parse(&d.kind)).collect()
}

/// A case goes on a meeting before its panel is drawn, in expert review, with all materials in.
pub fn schedule(meeting: &Meeting, case: &ReviewCase) -> Result<(), AppError> {
    if !meeting.panel.is_empty() {
        return Err(AppError::InvalidState("the panel of this meeting is already drawn; schedule the case on another meeting".into()));
    }
    if case.stage != Stage::ExpertReview || case.expert.conclusion.is_some() {
        return Err(AppError::InvalidState(format!("only a case awaiting expert review is scheduled; this one is {}", case.stage)));
    }
    if let Some(m) = case.expert.meeting_id {
        return Err(AppError::InvalidState(format!("the case is already on meeting {m}")));
    }
    panel::check_materials(&materials(case))
}

/// Draws the meeting's panel, excluding experts of every unit whose project is on it.
pub fn draw(meeting: &Meeting, pool: &[Expert], cases: &[ReviewCase], seed: u64) -> Result<Vec<Expert>, AppError> {
    if !meeting.panel.is_empty() {
        return Err(AppError::InvalidState("the panel is already drawn".into()));
    }
    if meeting.case_ids.is_empty() {
        return Err(AppError::rule("R-R2", "case_ids", "no project is scheduled on this meeting yet"));
    }
    let mut conflicted: Vec<String> = cases.iter().flat_map(|c| c.units().cloned()).collect();
    conflicted.sort();
    conflicted.dedup();
    panel::draw_panel(pool, &PanelRequest { specialties: meeting.specialties.clone(), conflicted_units: conflicted }, seed)
}

/// A panel expert scores a case of the meeting, once.
pub fn score(meeting: &Meeting, case_id: Uuid, s: &ExpertScore) -> Result<(), AppError> {
    if !meeting.case_ids.contains(&case_id) {
        return Err(AppError::field("case_id", "the case is not on this meeting"));
    }
    if meeting.panel.is_empty() {
        return Err(AppError::rule("R-R2", "panel", "the panel is not drawn yet"));
    }
    panel::validate_score(s, &meeting.panel)?;
    if meeting.scores.iter().any(|(c, x)| *c == case_id && x.expert_id == s.expert_id) {
        return Err(AppError::AlreadyExists(format!("expert {} has already scored this case", s.expert_id)));
    }
    Ok(())
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

    fn expert(id: &str, affiliation: &str) -> Expert {
        Expert { expert_id: id.into(), name: id.into(), specialties: vec!["IT".into()], affiliation: affiliation.into(), available: true }
    }

    #[test]
    fn r_r2_a_meeting_is_refused_until_the_presentation_is_uploaded() {
        let mut c = case("U-CIVIL");
        let m = meeting();
        let t = datetime!(2026-03-05 02:00 UTC);
        c.expert.documents = vec![doc(MaterialKind::RevisedFeasibilityReport, t), doc(MaterialKind::RevisionList, t)];
        let e = schedule(&m, &c).unwrap_err();
        assert_eq!(e.rule_ids(), vec!["R-R2"]);
        assert!(e.to_string().contains("汇报PPT"));
        c.expert.documents.push(doc(MaterialKind::Presentation, t));
        schedule(&m, &c).unwrap();
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
            let panel = draw(&m, &pool, &[a.clone(), b.clone()], seed).unwrap();
            assert_eq!(panel.len(), 3);
            assert!(panel.iter().all(|e| ["e4", "e5", "e6"].contains(&e.expert_id.as_str())));
        }
        // One more conflicted expert short: refused with R-R2.
        let short = vec![expert("e1", "U-CIVIL"), expert("e4", "浙大"), expert("e5", "市信息中心")];
        assert_eq!(draw(&m, &short, &[a, b], 7).unwrap_err().rule_ids(), vec!["R-R2"]);
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

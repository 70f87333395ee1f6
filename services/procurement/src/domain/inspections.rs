//! DRB's random inspection draws (抽查, R-P7): a draw of its own, not a change of any case. It is
//! recorded (the pool and the seed make it reproducible) and each drawn project gets an
//! informational timeline entry; both go through the platform's `record` (audit and events), the
//! draw itself into its own table.

use egov_platform::transition::{Context, Effects};
use uuid::Uuid;

use super::{
    events::{self, types},
    model::InspectionDraw,
    progress,
};

/// What DRB asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DrawRequest {
    pub count: u32,
    pub seed: u64,
    pub note: String,
}

/// A decided draw: the draw to store, what the draw records, and for each drawn project what its
/// own trail records (with its timeline event).
#[derive(Debug, Clone, PartialEq)]
pub struct Drawn {
    pub draw: InspectionDraw,
    pub effects: Effects,
    pub notices: Vec<(String, Effects)>,
}

/// Draws `r.count` of `pool` (the projects under construction) with `r.seed`, under the policy
/// in force (`ctx`), by `drawn_by`.
pub fn draw(draw_id: Uuid, pool: Vec<String>, r: DrawRequest, drawn_by: &str, ctx: Context<'_>) -> Drawn {
    let drawn = progress::draw_inspections(&pool, r.count as usize, r.seed);
    let draw = InspectionDraw {
        draw_id,
        seed: r.seed,
        count: r.count,
        pool,
        drawn,
        drawn_at: ctx.now,
        drawn_by: drawn_by.to_string(),
        note: r.note,
        policy_version: ctx.policy.version.clone(),
    };
    let effects = Effects::new("DrawInspections")
        .rules(&["R-P7"])
        .under_policy(draw.policy_version.clone())
        .detail("seed", draw.seed)
        .detail("count", draw.count)
        .detail("pool_size", draw.pool.len())
        .detail("drawn", draw.drawn.clone());
    let notices = draw
        .drawn
        .iter()
        .map(|project| {
            let summary = format!("抽查 / drawn for DRB's random inspection (draw {draw_id}, R-P7)");
            let e = Effects::new("DrawnForInspection")
                .rules(&["R-P7"])
                .under_policy(draw.policy_version.clone())
                .detail("draw_id", draw_id.to_string())
                .event(types::INSPECTION_DRAWN, events::informational(summary));
            (project.clone(), e)
        })
        .collect();
    Drawn { draw, effects, notices }
}

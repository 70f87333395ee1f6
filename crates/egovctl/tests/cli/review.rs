//! The `review` commands of the `egovctl` binary, without a server: usage errors exit 2 before
//! anything is called, and well-formed commands go to --review-endpoint /
//! EGOVCTL_REVIEW_ENDPOINT (not to --endpoint), where nothing listens in these tests.
//! The parsing itself (`--score CODE=N`, `--all N`, `--pass|--fail`, dates) is unit-tested in
//! `src/review.rs`; the calls are the review service's own tests.

use crate::common;

use std::{net::SocketAddr, process::Output};

use crate::common::{INTAKE, REVIEW, closed, stderr};

/// Runs egovctl with intake and review both pointing at closed ports.
fn ctl(intake: SocketAddr, review: SocketAddr, args: &[&str]) -> Output {
    common::egovctl(&[(INTAKE, intake), (REVIEW, review)], None, args)
}

const OPINION: [&str; 9] = ["review", "opinion", "C1", "--task", "T1", "--etag", "2", "--opinion", "同意"];

/// `review opinion C1 --task T1 --etag 2 --opinion 同意` and `extra`.
fn opinion(extra: &[&'static str]) -> Vec<&'static str> {
    OPINION.iter().chain(extra).copied().collect()
}

/// `review approve C1 --etag 1 --number 上数〔2026〕1号 --date DATE --budget-fen FEN --scope x
/// --months MONTHS`.
fn approve(date: &'static str, budget_fen: &'static str, months: &'static str) -> Vec<&'static str> {
    vec![
        "review",
        "approve",
        "C1",
        "--etag",
        "1",
        "--number",
        "上数〔2026〕1号",
        "--date",
        date,
        "--budget-fen",
        budget_fen,
        "--scope",
        "x",
        "--months",
        months,
    ]
}

#[test]
fn bad_scores_are_usage_errors() {
    let (intake, review) = (closed(), closed());
    for (args, says) in [
        (opinion(&["--score", "NECESSITY=101", "--pass"]), "0..100"),
        (opinion(&["--score", "NECESSITY", "--pass"]), "expected CODE=N"),
        (opinion(&["--score", "NECESSITY=high", "--pass"]), "whole number"),
        (opinion(&["--all", "80"]), "--pass"),
        (opinion(&["--all", "80", "--score", "BUDGET=1", "--pass"]), "cannot be used with"),
        (opinion(&["--pass"]), "--score"),
    ] {
        let o = ctl(intake, review, &args);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{args:?} should say {says:?}:\n{}", stderr(&o));
    }
    // A criterion scored twice is refused before connecting (exit 2, not "cannot reach").
    let o = ctl(intake, review, &opinion(&["--score", "BUDGET=80", "--score", "budget=70", "--pass"]));
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("criterion BUDGET is scored twice"), "{}", stderr(&o));
    let o = ctl(intake, review, &[&["--json"][..], &opinion(&["--score", "BUDGET=80", "--score", "BUDGET=70", "--fail"])].concat());
    let e: serde_json::Value = serde_json::from_slice(&o.stderr).expect("a JSON error");
    assert_eq!(e["error"], "usage");
}

#[test]
fn other_usage_errors() {
    let (intake, review) = (closed(), closed());
    for args in [
        &["review", "cases", "list", "--stage", "NOWHERE"][..],
        &["review", "tasks", "list", "--role", "KING"],
        &["review", "tasks", "list", "--state", "FINISHED"],
        &["review", "tasks", "claim", "T1"],
        &["review", "decide", "C1", "--etag", "3", "--comment", "同意"],
        &["review", "decide", "C1", "--etag", "3", "--pass", "--fail", "--comment", "同意"],
        &["review", "return", "C1", "--etag", "3"],
        &["review", "withdraw", "C1", "--etag", "3"],
        &approve("2026-13-01", "1", "6"),
        &approve("2026-11-01", "-5", "6"),
        &approve("2026-11-01", "5", "0"),
        &["review", "experts", "create", "e2", "--name", "王工", "--affiliation", "浙大"],
        &["review", "experts", "availability", "e2", "--etag", "1"],
        &["review", "materials", "upload", "C1", "--kind", "FEASIBILITY_REPORT", "x.pdf"],
        &["review", "meetings", "create", "--date", "2026-11-24", "--need", "IT=16"],
        &["review", "meetings", "create", "--date", "2026-11-24", "--need", "IT"],
        &["review", "meetings", "draw", "M1", "--etag", "1", "--seed", "0"],
        &["review", "score", "M1", "--case", "C1", "--opinion", "可行"],
        &["review", "score", "M1", "--case", "C1", "--opinion", "可行", "--dim", "NECESSITY=80"],
        &["review", "conclude", "C1", "--etag", "1", "--pass", "--opinion", "可行"],
        &["review", "recheck-opinion", "C1", "--task", "T1", "--etag", "1", "--opinion", "同意"],
        &["review", "recheck-conclude", "C1", "--etag", "1", "--pass", "--comment", "通过", "--priority", "1"],
        &["review", "joint-meeting", "C1", "--etag", "1", "--fail", "--meeting-ref", "第3次", "--date", "2026-11-24"],
        &["review", "funds-secured", "C1", "--etag", "1"],
        &["review", "change", "decide", "C1", "--etag", "1", "--change", "X1", "--stage", "LATER", "--pass", "--comment", "x"],
    ] {
        let o = ctl(intake, review, args);
        assert_eq!(o.status.code(), Some(2), "{args:?} should be a usage error: {}", stderr(&o));
    }
}

#[test]
fn expert_review_arguments_are_checked_before_connecting() {
    let (intake, review) = (closed(), closed());
    let score = ["review", "score", "M1", "--case", "C1", "--opinion", "可行"];
    let none: &[&str] = &[];
    for (extra, says) in [
        (&["--dim", "TECHNICAL_SOLUTION=80"][..], "missing: RESOURCE_CONSOLIDATION, DATA_SHARING, SECURITY_ASSURANCE, COST_ESTIMATE"),
        (&["--dim", "TECHNICAL_SOLUTION=80", "--dim", "technical-solution=70"][..], "TECHNICAL_SOLUTION is scored twice"),
        (&["--dim", "TECHNICAL_SOLUTION=101"][..], "0..100"),
        (none, "--dim"),
    ] {
        let o = ctl(intake, review, &[&score[..], extra].concat());
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {}", stderr(&o));
        assert!(stderr(&o).contains(says), "{extra:?} should say {says:?}:\n{}", stderr(&o));
    }
    let o = ctl(intake, review, &["review", "meetings", "create", "--date", "2026-11-24", "--need", "IT=2", "--need", "IT=1"]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("specialty IT is needed twice"), "{}", stderr(&o));
    let missing = std::env::temp_dir().join(format!("egovctl-missing-{}", std::process::id()));
    let o = ctl(intake, review, &["review", "materials", "upload", "C1", "--kind", "PRESENTATION", missing.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("cannot open"), "{}", stderr(&o));
}

#[test]
fn review_commands_call_the_review_endpoint() {
    let (intake, review) = (closed(), closed());
    for args in [
        opinion(&["--score", "NECESSITY=85", "--score", "BUDGET=70", "--pass"]),
        opinion(&["--all", "80", "--fail"]),
        vec!["review", "cases", "list", "--stage", "expert-review", "--unit", "U-CIVIL"],
        vec!["review", "cases", "get", "C1"],
        vec!["review", "tasks", "list", "--case", "C1", "--role", "drc", "--state", "open"],
        vec!["review", "tasks", "claim", "T1", "--etag", "1"],
        vec!["review", "sheet"],
        vec!["review", "decide", "C1", "--etag", "3", "--pass", "--comment", "同意"],
        vec!["review", "return", "C1", "--etag", "3", "--comment", "补充材料"],
        vec!["review", "resubmit", "C1", "--etag", "4"],
        vec!["review", "withdraw", "C1", "--etag", "3", "--reason", "不再建设"],
        approve("2026-11-24", "50000000", "6"),
        vec!["review", "approval", "P1"],
        vec!["review", "experts", "create", "e2", "--name", "王工", "--specialty", "IT", "--affiliation", "浙江大学"],
        vec!["review", "experts", "list", "--specialty", "IT"],
        vec!["review", "experts", "availability", "e2", "--etag", "1", "--unavailable"],
        vec!["review", "meetings", "create", "--date", "2026-11-24", "--need", "IT=3"],
        vec!["review", "meetings", "get", "M1"],
        vec!["review", "meetings", "schedule", "M1", "--etag", "1", "--case", "C1"],
        vec!["review", "meetings", "draw", "M1", "--etag", "2", "--seed", "42"],
        vec!["review", "score", "M1", "--case", "C1", "--all", "80", "--opinion", "方案可行"],
        vec!["review", "conclude", "C1", "--etag", "5", "--pass", "--budget-fen", "108000000", "--opinion", "建议压缩投资"],
        vec!["review", "opinion-of", "P1"],
        vec!["review", "recheck-opinion", "C1", "--task", "T1", "--etag", "1", "--pass", "--opinion", "同意"],
        vec![
            "review",
            "recheck-conclude",
            "C1",
            "--etag",
            "7",
            "--pass",
            "--comment",
            "复核通过",
            "--priority",
            "1",
            "--fiscal-year",
            "2027",
            "--amount-fen",
            "108000000",
        ],
        vec!["review", "joint-meeting", "C1", "--etag", "8", "--pass", "--meeting-ref", "第3次联席会议", "--date", "2026-11-24"],
        vec!["review", "funds-secured", "C1", "--etag", "9", "--evidence", "D1"],
        vec!["review", "change", "request", "C1", "--etag", "9", "--new-budget-fen", "90000000", "--reason", "需求调整"],
        vec![
            "review",
            "change",
            "decide",
            "C1",
            "--etag",
            "10",
            "--change",
            "X1",
            "--stage",
            "DEPARTMENTAL",
            "--pass",
            "--comment",
            "同意",
        ],
    ] {
        let o = ctl(intake, review, &args);
        assert_eq!(o.status.code(), Some(1), "{args:?}: {}", stderr(&o));
        let err = stderr(&o);
        assert!(err.contains(&format!("cannot reach http://{review}")), "{args:?} should call review at {review}:\n{err}");
    }
    // A material is read from its file only once the service is reached.
    let file = std::env::temp_dir().join(format!("egovctl-material-{}.txt", std::process::id()));
    std::fs::write(&file, "汇报PPT（样例）").unwrap();
    let o = ctl(intake, review, &["review", "materials", "upload", "C1", "--kind", "PRESENTATION", file.to_str().unwrap()]);
    std::fs::remove_file(&file).unwrap();
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains(&format!("cannot reach http://{review}")), "{}", stderr(&o));
    // --review-endpoint beats the environment; --endpoint is not what review commands use.
    let other = closed();
    let o = ctl(intake, review, &["review", "--review-endpoint", &format!("http://{other}"), "--endpoint", "http://127.0.0.1:1", "sheet"]);
    assert!(stderr(&o).contains(&format!("cannot reach http://{other}")), "{}", stderr(&o));
    // Intake commands still go to --endpoint.
    let o = ctl(intake, review, &["units", "list"]);
    assert!(stderr(&o).contains(&format!("cannot reach http://{intake}")), "{}", stderr(&o));
}

#[test]
fn help_lists_every_review_command() {
    let o = ctl(closed(), closed(), &["review", "--help"]);
    assert!(o.status.success());
    let help = String::from_utf8_lossy(&o.stdout);
    for cmd in [
        "cases",
        "tasks",
        "sheet",
        "opinion",
        "decide",
        "experts",
        "materials",
        "meetings",
        "score",
        "conclude",
        "opinion-of",
        "recheck-opinion",
        "recheck-conclude",
        "joint-meeting",
        "return",
        "resubmit",
        "withdraw",
        "approve",
        "approval",
        "funds-secured",
        "change",
    ] {
        assert!(help.contains(&format!("\n  {cmd} ")), "review --help lacks {cmd}:\n{help}");
    }
    assert!(help.contains("EGOVCTL_REVIEW_ENDPOINT"), "{help}");
}

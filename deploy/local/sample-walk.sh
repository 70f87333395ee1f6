#!/usr/bin/env bash
# Drives two sample projects through intake and review, and the first on through procurement,
# construction, acceptance and its first performance evaluation, with egovctl, as the people
# involved would; ends with the first project's cross-service timeline (Chinese and English stage
# names) and the reconcile of every service's view of every project.
#
# Setup: DRB (区数据资源局) registers 民政局 as unit U-CIVIL and opens next year's round.
#
# Part 1, a business application (sample-draft.json, district fiscal money):
#   UNIT (U-CIVIL) drafts it and uploads its dossier; LEADER (分管区领导) consents; UNIT submits;
#   DRB passes the compliance review (R-I11). Intake's compliance-passed event opens a review
#   case in preliminary review (初审, R-R1): each participant it names (DRC, FINANCE, CAC,
#   XINCHUANG; GRASSROOTS when the app reaches streets) claims its task and scores every
#   criterion 80, passing; DRB decides: passed, the case goes to expert review (专家评审, R-R2).
#   Expert review (R-R2): DRB adds five experts to the pool (walk-e1..walk-e5; they persist in
#   the database, so a later walk finds them: ALREADY_EXISTS is fine, and one made unavailable is
#   made available again; walk-e5 belongs to U-CIVIL and is never drawn, 回避), creates a meeting
#   for review's today needing 3 IT experts; UNIT uploads the three materials (修改后的可行性研究
#   报告, 修改详细清单, 汇报PPT: small generated text files); DRB schedules the case and draws the
#   panel at random (the seed and the panel are printed; any available IT expert of the pool may
#   be drawn); each panel expert scores every dimension 80 with an EXPERT token whose subject is
#   its id; DRB concludes: passed, recommended budget 90 % of the budget applied for; anyone
#   reads the expert opinion. UNIT uploads the revised report and the revision list again: the
#   case moves to re-check (复核审查, R-R3), where DRB, DRC and FINANCE each claim their task and
#   pass; DRB concludes with the funding arrangement (priority 1, next fiscal year, the
#   recommended budget); DRB records the joint meeting (联席会议, R-R4): passed; DRB issues the
#   approval document (立项文件) for the re-check's amount. Intake's status then says 已立项.
# Part 2, a fast-track application (sample-draft-fast-track.json: wholly superior transfer
#   money, fast-track ground NON_DISTRICT_FUNDING, R-R5): the same intake steps; its case opens
#   in APPROVAL, and DRB issues the approval document (立项文件, R-R4) dated the review
#   service's today, for the budget applied for. Intake's status timeline then says 已立项.
# Either case goes the fast-track way when review opened it on the fast track.
# Part 3, the business application goes on (采购建设): the approval opens its procurement case
#   (R-P1 deadline); UNIT records the procurement (R-P3, R-P4: government procurement, open
#   tender, the supplier's unified social credit code checked under GB 32100, and a separately
#   procured supervision contract), files the contract (R-P2: every clause stated; R-P5: the
#   approval's name, filed the day it is signed; the construction period exactly the approved
#   planned months; R-P9: 等保 level 3, an important information system), sets the payment plan
#   (R-P6: 30 % 合同签订, 40 % 初验通过, 30 % 终验通过), records the first stage's condition met,
#   files its payment, files the month's progress report (R-P7) and declares construction complete.
#   Intake's timeline then shows 采购完成 PROCURED, 建设 CONSTRUCTION and 建设完成
#   CONSTRUCTION_COMPLETED. Reports are due from the first month whose report day (the 20th) comes
#   after the filing: a contract filed on or after the 20th has none due this month, so the walk
#   moves every service's clock (local profile) to the 1st of the next month and reports then;
#   EGOV_WALK_MOVE_CLOCK=0 skips the report instead.
#
# Part 4, acceptance (验收): construction completed opens the acceptance case; UNIT files the
#   initial-acceptance materials and records the initial acceptance (初验, R-A1) with a five-expert
#   panel (crates/egovctl/samples/initial-acceptance-panel.json): the trial operation starts
#   (试运行, R-A2) and procurement meets stage 2 (初验通过); UNIT files the acceptance materials;
#   every clock moves to the trial's end; PROVINCE deposits the trial-operation report; UNIT
#   applies (R-A3: acceptance checks the approved modules, contract and materials with review and
#   procurement itself); DRB approves and, the project bought by government procurement, records
#   the acceptance (R-A4) with five experts (samples/acceptance-experts.json, R-A5). Intake then
#   shows 运行 IN_OPERATION and procurement meets stage 3 (终验通过).
# Part 5, evaluation (绩效评价): evaluation catalogues the accepted application and schedules its
#   first evaluation (R-E1, R-E2); every clock moves to the due day; DRB opens the evaluation, DRB
#   and FINANCE score their indicators (samples/evaluation-scores-*.json), DRB publishes it.
#   Parts 4 and 5 move every service's clock forward (local profile; EGOV_WALK_MOVE_CLOCK=0 stops
#   at the trial). A second walk on the same stack starts from the clocks as this one left them.
# A round for next year can only be opened on or before 09-30 (R-I3). After that date, or when
# the round refuses the submission for the date, each application goes the supplementary way
# (增补项目): UNIT asks with an urgency justification, DRB accepts, UNIT submits without a round.
#
# Environment: EGOVCTL (default target/release/egovctl), EGOVCTL_ENDPOINT (intake, default
# http://127.0.0.1:<intake's port>), EGOVCTL_REVIEW_ENDPOINT, EGOVCTL_PROCUREMENT_ENDPOINT,
# EGOVCTL_ACCEPTANCE_ENDPOINT, EGOVCTL_EVALUATION_ENDPOINT (default: each service's port from
# settings.sh: EGOV_GRPC_PORT_BASE, default 50051, then review 50052 … evaluation 50055),
# EGOV_AUTH__HS256_SECRET (tokens are minted with it; default: the local profile's). When review
# is not SERVING, each project's walk ends at compliance; when procurement is not, at approval.
# Needs python3 to read the JSON answers.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=deploy/local/settings.sh
. "$root/deploy/local/settings.sh"
CTL="${EGOVCTL:-$root/target/release/egovctl}"
export EGOVCTL_ENDPOINT="${EGOVCTL_ENDPOINT:-http://127.0.0.1:$(egov_port_of intake)}"
export EGOVCTL_REVIEW_ENDPOINT="${EGOVCTL_REVIEW_ENDPOINT:-http://127.0.0.1:$(egov_port_of review)}"
export EGOVCTL_PROCUREMENT_ENDPOINT="${EGOVCTL_PROCUREMENT_ENDPOINT:-http://127.0.0.1:$(egov_port_of procurement)}"
export EGOVCTL_ACCEPTANCE_ENDPOINT="${EGOVCTL_ACCEPTANCE_ENDPOINT:-http://127.0.0.1:$(egov_port_of acceptance)}"
export EGOVCTL_EVALUATION_ENDPOINT="${EGOVCTL_EVALUATION_ENDPOINT:-http://127.0.0.1:$(egov_port_of evaluation)}"
[ -x "$CTL" ] || { echo "sample-walk: $CTL is missing: cargo build --release -p egovctl" >&2; exit 1; }
command -v python3 >/dev/null || { echo "sample-walk: python3 is needed to read egovctl's JSON" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
n=0
# Seconds to wait for an event to be consumed (a review case to open, a timeline to catch up).
EVENT_WAIT_SECS="${EGOV_WALK_EVENT_WAIT_SECS:-30}"

part() { printf '\n==================== %s\n' "$*"; }
step() { n=$((n + 1)); printf '\n[%d] %s\n' "$n" "$*"; }
note() { printf '    %s\n' "$*"; }
indent() { sed 's/^./    &/'; }

# call <token> <egovctl args...>: runs egovctl --json as the token's holder; the answer goes to
# $work/out.json, an error to $work/err.json. Returns egovctl's exit code.
call() {
  local token="$1"; shift
  EGOV_TOKEN="$token" "$CTL" --json "$@" >"$work/out.json" 2>"$work/err.json"
}

# show <token> <egovctl args...>: runs egovctl for people and prints its answer indented.
show() {
  local token="$1"; shift
  if EGOV_TOKEN="$token" "$CTL" "$@" >"$work/show.txt" 2>"$work/err.json"; then
    indent <"$work/show.txt"
  else
    fail "egovctl $*"
  fi
}

# get <dotted.path> [file]: a field of the last answer; a list prints space-separated.
get() {
  python3 - "$1" "${2:-$work/out.json}" <<'PY'
import json, sys
value = json.load(open(sys.argv[2], encoding="utf-8"))
for key in sys.argv[1].split("."):
    value = value[int(key)] if isinstance(value, list) else value.get(key, "")
if isinstance(value, bool):
    print(str(value).lower())
elif isinstance(value, list):
    print(" ".join(str(v) for v in value))
else:
    print(value)
PY
}

# The last error, for people: code, message, rule violations, field violations.
show_error() {
  python3 - "$work/err.json" <<'PY'
import json, sys
text = open(sys.argv[1], encoding="utf-8").read()
try:
    e = json.loads(text)
except ValueError:
    print("    " + text.strip().replace("\n", "\n    "))
    sys.exit(0)
print(f"    {e.get('code', e.get('error'))}: {e.get('message')}")
for v in e.get("precondition_violations", []):
    print(f"      {v['rule_id']} [{v['subject']}]: {v['description']}")
for v in e.get("field_violations", []):
    print(f"      field {v['field']}: {v['description']}")
PY
}

error_code() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("code",""))' "$work/err.json" 2>/dev/null || true; }
error_rules() { python3 -c 'import json,sys; print(" ".join(v["rule_id"] for v in json.load(open(sys.argv[1])).get("precondition_violations",[])))' "$work/err.json" 2>/dev/null || true; }

fail() { echo "sample-walk: FAILED: $*" >&2; show_error >&2; exit 1; }

# Today in Asia/Shanghai (UTC+8 all year) from the `now` of a clock reading in $work/out.json.
shanghai_today() {
  python3 -c 'import sys,datetime; t=datetime.datetime.fromisoformat(sys.argv[1].replace("Z","+00:00")); print((t+datetime.timedelta(hours=8)).date())' "$(get now)"
}

# review_today: today as the review service's clock sees it (Asia/Shanghai), in TODAY and YEAR.
review_today() {
  call "$OPERATOR" --endpoint "$EGOVCTL_REVIEW_ENDPOINT" ops clock get || fail "reading the review service's clock"
  TODAY="$(shanghai_today)"
  YEAR="${TODAY%%-*}"
}

# case_etag: reads case $CASE again into $work/case.json and CASE_ETAG.
case_etag() {
  call "$DRB" review cases get "$CASE" || fail "reading case $CASE"
  cp "$work/out.json" "$work/case.json"
  CASE_ETAG="$(get etag)"
}

# claim_task <token> <role> <kind>: the role's open task of that kind on $CASE, claimed; sets
# TASK and TASK_ETAG.
claim_task() {
  local token="$1" role="$2" kind="$3" found
  call "$token" review tasks list --case "$CASE" --role "$role" --state OPEN || fail "$role listing its tasks"
  found="$(python3 - "$work/out.json" "$kind" <<'PY'
import json, sys
ts = [t for t in json.load(open(sys.argv[1], encoding="utf-8"))["tasks"] if t["kind"] == sys.argv[2]]
print(f"{ts[0]['task_id']} {ts[0]['etag']}" if ts else "")
PY
)"
  [ -n "$found" ] || fail "$role has no open $kind task on case $CASE"
  TASK="${found%% *}"
  TASK_ETAG="${found#* }"
  call "$token" review tasks claim "$TASK" --etag "$TASK_ETAG" || fail "$role claiming task $TASK"
  TASK_ETAG="$(get etag)"
  note "task $TASK ($(get kind)) is $(get state) by $(get assignee), due $(get due_at)"
}

# Reads the application's current etag (uploads change the aggregate without returning it).
refresh() {
  call "$UNIT" applications get "$APP" || fail "could not read application $APP"
  ETAG="$(get etag)"
  note "application $APP is $(get state) (etag $ETAG)"
}

# status_until <project> <python condition on the status answer `s`>: polls intake's project
# status until the condition holds (at most EVENT_WAIT_SECS); the last answer is in out.json.
# Returns 1 when it never held.
status_until() {
  local project="$1" cond="$2" i
  for i in $(seq 1 $((EVENT_WAIT_SECS * 2))); do
    if call "$DRB" projects status "$project" &&
      python3 -c "import json,sys; s=json.load(open(sys.argv[1])); sys.exit(0 if ($cond) else 1)" "$work/out.json"; then
      return 0
    fi
    sleep 0.5
  done
  return 1
}

echo "sample walk: intake at $EGOVCTL_ENDPOINT, review at $EGOVCTL_REVIEW_ENDPOINT, procurement at $EGOVCTL_PROCUREMENT_ENDPOINT"
"$CTL" health >/dev/null 2>&1 || { echo "sample-walk: intake is not SERVING at $EGOVCTL_ENDPOINT (deploy/local/up.sh starts it)" >&2; exit 1; }
if "$CTL" health --endpoint "$EGOVCTL_REVIEW_ENDPOINT" >/dev/null 2>&1; then
  REVIEW=1
else
  REVIEW=0
  echo "sample walk: review is not SERVING at $EGOVCTL_REVIEW_ENDPOINT: each project's walk ends at compliance"
fi
ACCEPTANCE=0
EVALUATION=0
if "$CTL" health --endpoint "$EGOVCTL_ACCEPTANCE_ENDPOINT" >/dev/null 2>&1; then ACCEPTANCE=1; else
  echo "sample walk: acceptance is not SERVING at $EGOVCTL_ACCEPTANCE_ENDPOINT: the business application's walk ends at construction completed"
fi
if "$CTL" health --endpoint "$EGOVCTL_EVALUATION_ENDPOINT" >/dev/null 2>&1; then EVALUATION=1; else
  echo "sample walk: evaluation is not SERVING at $EGOVCTL_EVALUATION_ENDPOINT: the business application's walk ends at its acceptance"
fi
PROCUREMENT=0
if [ "$REVIEW" = 1 ]; then
  if "$CTL" health --endpoint "$EGOVCTL_PROCUREMENT_ENDPOINT" >/dev/null 2>&1; then
    PROCUREMENT=1
  else
    echo "sample walk: procurement is not SERVING at $EGOVCTL_PROCUREMENT_ENDPOINT: the business application's walk ends at its approval"
  fi
fi

# ==================================================================== setup

part "Setup: tokens, the unit, the round"

step "Minting local tokens for DRB, UNIT (U-CIVIL), LEADER, and OPERATOR (to read the service clocks)"
DRB="$("$CTL" token --role DRB --sub drb-sample-walk)"
UNIT="$("$CTL" token --role UNIT --unit U-CIVIL --sub civil-sample-walk)"
LEADER="$("$CTL" token --role LEADER --sub leader-sample-walk)"
OPERATOR="$("$CTL" token --role OPERATOR --sub ops-sample-walk)"
note "HS256 tokens of the local profile, valid 12 hours; review participants get theirs when they act"

step "DRB registers unit U-CIVIL (民政局, a district budget unit)"
if call "$DRB" units create --unit-id U-CIVIL --name 民政局 --district-budget-unit; then
  note "unit $(get unit_id) $(get name) registered"
elif [ "$(error_code)" = "ALREADY_EXISTS" ]; then
  note "U-CIVIL was registered by an earlier walk"
else
  fail "registering U-CIVIL"
fi

step "DRB opens the application round for next year (R-I3)"
# Next year as the service's clock sees it (local runs can move time forward), else this machine's.
if call "$OPERATOR" ops clock get; then
  today="$(shanghai_today)"
  year="${today%%-*}"
  note "intake's clock says $today (Asia/Shanghai)"
else
  year="$(TZ=Asia/Shanghai date +%Y)"
  note "intake's clock is not readable; using this machine's date, year $year"
fi
target=$((year + 1))
ROUND=""
if call "$DRB" rounds open --target-year "$target"; then
  ROUND="$(get round_id)"
  note "round $ROUND for $target is open until $(get deadline)"
elif [ "$(error_code)" = "ALREADY_EXISTS" ]; then
  call "$DRB" rounds list --page-size 100 || fail "listing rounds"
  ROUND="$(python3 -c 'import json,sys
rs=[r for r in json.load(open(sys.argv[1]))["rounds"] if r["target_year"]==int(sys.argv[2]) and r["state"]=="ROUND_STATE_OPEN"]
print(rs[0]["round_id"] if rs else "")' "$work/out.json" "$target")"
  note "the round for $target was already open: ${ROUND:-not found}"
else
  note "the round for $target cannot be opened:"
  show_error
  note "=> the applications are made as supplementary projects (增补项目) instead"
fi

# ==================================================================== intake

supplementary() {
  step "UNIT asks to apply as a supplementary project, with an urgency justification (R-I3)"
  refresh
  call "$UNIT" supplementary request "$APP" --etag "$ETAG" \
    --justification "省民政厅要求年内上线，无法等待下一年度集中申报（一事一议）" ||
    fail "requesting a supplementary application"
  ETAG="$(get etag)"
  note "application is $(get state)"

  step "DRB accepts the supplementary request (一事一议)"
  call "$DRB" supplementary decide "$APP" --etag "$ETAG" --accept --comment "紧迫性理由成立，同意增补（样例）" ||
    fail "deciding the supplementary request"
  ETAG="$(get etag)"
  note "supplementary accepted: $(get supplementary) (etag $ETAG)"

  step "UNIT submits the supplementary application (no round)"
  call "$UNIT" submit "$APP" --etag "$ETAG" || fail "submitting the supplementary application"
  ETAG="$(get etag)"
  note "application is $(get state), submitted at $(get submitted_at)"
}

# intake_walk <draft file name> <form text> <feasibility text>: drafts, uploads, consents,
# submits and passes compliance; sets APP, PROJECT, ETAG.
intake_walk() {
  local draft="$1" form="$2" feasibility="$3" grounds
  step "UNIT drafts an application from deploy/local/$draft"
  call "$UNIT" applications create --unit U-CIVIL --draft "$root/deploy/local/$draft" || fail "creating the application from $draft"
  APP="$(get application_id)"
  PROJECT="$(get project_id)"
  ETAG="$(get etag)"
  note "application $APP (project $PROJECT): $(get name), $(get state)"
  grounds="$(get fast_track_grounds)"
  note "funding $(get funding_source), fast-track grounds: ${grounds:--}"

  step "UNIT uploads the application form and the feasibility study report (R-I4)"
  printf '%s\n' "$form" >"$work/申报表.txt"
  printf '%s\n' "$feasibility" >"$work/可行性研究报告.txt"
  call "$UNIT" documents upload --application "$APP" --kind APPLICATION_FORM --file "$work/申报表.txt" || fail "uploading the application form"
  note "APPLICATION_FORM $(get document_id): $(get size_bytes) bytes, sha256 $(get sha256)"
  call "$UNIT" documents upload --application "$APP" --kind FEASIBILITY_REPORT --file "$work/可行性研究报告.txt" || fail "uploading the feasibility report"
  note "FEASIBILITY_REPORT $(get document_id): $(get size_bytes) bytes, sm3 $(get sm3)"
  refresh

  step "LEADER records the district leader's consent (分管区领导同意, R-I6)"
  call "$LEADER" consent record "$APP" --comment "同意申报（样例）" || fail "recording the leader's consent"
  ETAG="$(get etag)"
  note "leader consent recorded: $(get leader_consent_recorded) (etag $ETAG)"

  if [ -n "$ROUND" ]; then
    step "UNIT submits the application into round $ROUND"
    if call "$UNIT" submit "$APP" --etag "$ETAG" --round "$ROUND"; then
      ETAG="$(get etag)"
      note "application is $(get state), security share $(get security_share_bp) bp"
    elif [ "$(error_code)" = "FAILED_PRECONDITION" ] && grep -qw "R-I3" <<<"$(error_rules)"; then
      note "the round refuses the submission for the date:"
      show_error
      supplementary
    else
      fail "submitting into round $ROUND"
    fi
  else
    supplementary
  fi

  step "DRB reads the compliance checklist (合规性审核要点, R-I11)"
  show "$DRB" compliance checklist "$APP"

  step "DRB decides: every item passes"
  call "$DRB" compliance decide "$APP" --etag "$ETAG" --all-pass --comment "材料齐全、合规（样例）" || fail "deciding compliance"
  ETAG="$(get etag)"
  local state
  state="$(get state)"
  note "application is $state"
  [ "$state" = "APPLICATION_STATE_COMPLIANCE_PASSED" ] || fail "expected COMPLIANCE_PASSED, the application is $state"
}

# Prints the project's status and timeline once the compliance decision is on it (at most
# EVENT_WAIT_SECS; then whatever is there).
compliance_timeline() {
  step "The project's status and timeline (projects status $PROJECT)"
  status_until "$PROJECT" 'any("compliance" in e["event_type"] for e in s["timeline"])' ||
    note "(the compliance event is not on the timeline yet)"
  show "$DRB" projects status "$PROJECT"
}

# ==================================================================== review

# Waits for the review case intake's compliance-passed event opens (its id is the project's);
# the case is left in $work/case.json.
wait_for_case() {
  step "DRB waits for the review case of project $PROJECT (opened by intake's compliance-passed event)"
  local i
  for i in $(seq 1 $((EVENT_WAIT_SECS * 2))); do
    if call "$DRB" review cases get "$PROJECT"; then
      cp "$work/out.json" "$work/case.json"
      CASE="$(get case_id)"
      CASE_ETAG="$(get etag)"
      note "case $CASE is in $(get stage) (fast track: $(get fast_track), etag $CASE_ETAG), opened after ~$((i / 2)) s"
      return 0
    fi
    [ "$(error_code)" = "NOT_FOUND" ] || fail "reading review case $PROJECT"
    sleep 0.5
  done
  fail "no review case for project $PROJECT after ${EVENT_WAIT_SECS}s: is egov-review consuming intake's events? (.egov-local/logs/review.log; egovctl ops dead-events list)"
}

# The preliminary review (R-R1): every participant scores and passes; DRB passes the case on to
# expert review.
preliminary_review() {
  local participants role token
  participants="$(get required_participants "$work/case.json")"
  [ -n "$participants" ] || fail "case $CASE is in preliminary review without participants"

  step "The preliminary scoring sheet of case $CASE (初审评分表, R-R1)"
  show "$DRB" review sheet --case "$CASE"

  for role in $participants; do
    step "$role lists its preliminary task, claims it and gives its opinion: every criterion 80, pass"
    token="$(role_token "$role")"
    claim_task "$token" "$role" preliminary.opinion
    call "$token" review opinion "$CASE" --task "$TASK" --etag "$TASK_ETAG" --all 80 --pass \
      --opinion "$role：建设必要、方案可行，同意通过初审（样例）" || fail "$role giving its opinion"
    python3 - "$work/out.json" "$role" <<'PY'
import json, sys
k, role = json.load(open(sys.argv[1], encoding="utf-8")), sys.argv[2]
o = [o for o in k["opinions"] if o["role"] == role][0]
left = [r for r in k["required_participants"] if not any(x["role"] == r for x in k["opinions"])]
print(f"    {role} scored {o['weighted_score_centi'] / 100:.2f}, passed: {str(o['passed']).lower()}; waiting for: {', '.join(left) or 'nobody'}")
PY
  done

  step "DRB decides the preliminary review: passed (综合初审单位意见, R-R1)"
  case_etag
  call "$DRB" review decide "$CASE" --etag "$CASE_ETAG" --pass \
    --comment "各初审单位均同意，综合评分达到要求，进入专家评审（样例）" || fail "deciding the preliminary review"
  local stage
  stage="$(get stage)"
  note "aggregate score $(python3 -c 'import json,sys; print("%.2f" % (json.load(open(sys.argv[1]))["preliminary_decision"]["aggregate_score_centi"] / 100))' "$work/out.json"); the case is in $stage"
  [ "$stage" = "CASE_STAGE_EXPERT_REVIEW" ] || fail "expected the case in EXPERT_REVIEW, it is in $stage"

  step "The case after the preliminary review (review cases get $CASE)"
  show "$DRB" review cases get "$CASE"

  step "Intake's status of project $PROJECT (the timeline follows review's events)"
  status_until "$PROJECT" '"EXPERT_REVIEW" in s["status"]' || note "(the preliminary decision is not on the timeline yet)"
  show "$DRB" projects status "$PROJECT"

}

# role_token <role>: a local token of a reviewer of that role (DRB: the walk's own).
role_token() {
  if [ "$1" = DRB ]; then
    echo "$DRB"
  else
    "$CTL" token --role "$1" --sub "$(tr '[:upper:]' '[:lower:]' <<<"$1")-sample-walk"
  fi
}

# The walk's experts: id|name|specialties (comma-separated)|affiliation. walk-e5 works for
# U-CIVIL, the applying unit: never drawn for its project (回避).
WALK_EXPERTS=(
  "walk-e1|王建国|IT,SECURITY|浙江大学"
  "walk-e2|李晓梅|IT|杭州市信息中心"
  "walk-e3|陈志远|IT,DATA|之江实验室"
  "walk-e4|赵敏|IT|杭州电子科技大学"
  "walk-e5|周海涛|IT|U-CIVIL"
)

# upload_material <kind> <file name> <content>: UNIT uploads a material of $CASE.
upload_material() {
  local kind="$1" file="$work/$2"
  printf '%s\n' "$3" >"$file"
  call "$UNIT" review materials upload "$CASE" --kind "$kind" "$file" || fail "uploading $kind"
  note "$kind $(get document_id): $(get file_name), $(get size_bytes) bytes, sha256 $(get sha256)"
}

# The expert review (专家评审, R-R2), from the pool to the expert opinion and the revised
# materials that open the re-check. Sets RECOMMENDED.
expert_review() {
  local entry id etag name specialties affiliation spec_args sp stage meeting meeting_etag seed panel expert token total
  step "DRB adds the walk's experts to the pool (专家库, R-R2); an earlier walk may have added them"
  for entry in "${WALK_EXPERTS[@]}"; do
    IFS='|' read -r id name specialties affiliation <<<"$entry"
    spec_args=()
    for sp in ${specialties//,/ }; do spec_args+=(--specialty "$sp"); done
    if call "$DRB" review experts create "$id" --name "$name" "${spec_args[@]}" --affiliation "$affiliation"; then
      note "$id $name ($specialties, $affiliation) added"
    elif [ "$(error_code)" = "ALREADY_EXISTS" ]; then
      note "$id $name is in the pool already (an earlier walk)"
    else
      fail "adding expert $id"
    fi
  done
  call "$DRB" review experts list --specialty IT --page-size 100 || fail "listing the pool"
  cp "$work/out.json" "$work/pool.json"
  # One of the walk's experts made unavailable since is made available again.
  python3 - "$work/pool.json" <<'PY' >"$work/unavailable.txt"
import json, sys
for e in json.load(open(sys.argv[1], encoding="utf-8"))["experts"]:
    if e["expert_id"].startswith("walk-e") and not e["available"]:
        print(e["expert_id"], e["etag"])
PY
  while read -r id etag; do
    call "$DRB" review experts availability "$id" --etag "$etag" --available || fail "making $id available"
    note "$id was unavailable: made available again"
  done <"$work/unavailable.txt"
  note "the pool's IT experts (first page; any available one not of U-CIVIL may be drawn):"
  show "$DRB" review experts list --specialty IT --page-size 100

  step "DRB creates an expert review meeting (专家评审会) for review's today: 3 IT experts"
  review_today
  call "$DRB" review meetings create --date "$TODAY" --need IT=3 || fail "creating the meeting"
  meeting="$(get meeting_id)"
  meeting_etag="$(get etag)"
  note "meeting $meeting on $(get held_on), $(get state) (etag $meeting_etag)"

  step "UNIT uploads the three materials for the meeting (R-R2)"
  upload_material REVISED_FEASIBILITY_REPORT 修改后的可行性研究报告.txt "修改后的可行性研究报告（样例）
按初审意见补充了与已建系统的数据共享方案和投资估算依据。"
  upload_material REVISION_LIST 修改详细清单.txt "修改详细清单（样例）
1. 补充社会救助数据共享清单；2. 细化投资估算；3. 补充等保测评安排。"
  upload_material PRESENTATION 汇报PPT.txt "项目汇报材料（样例）：建设背景、建设内容、数据共享、安全保障、投资估算。"

  step "DRB schedules case $CASE on meeting $meeting"
  call "$DRB" review meetings schedule "$meeting" --etag "$meeting_etag" --case "$CASE" || fail "scheduling the case"
  meeting_etag="$(get etag)"
  note "cases on the meeting: $(get case_ids) (etag $meeting_etag)"

  step "DRB draws the panel at random by specialty, experts of U-CIVIL excluded (回避)"
  call "$DRB" review meetings draw "$meeting" --etag "$meeting_etag" || fail "drawing the panel"
  seed="$(get seed)"
  panel="$(python3 -c 'import json,sys; print(" ".join(e["expert_id"] for e in json.load(open(sys.argv[1]))["panel"]))' "$work/out.json")"
  note "seed $seed (recorded: the same pool and seed draw the same panel); panel in draw order: $panel"
  show "$DRB" review meetings get "$meeting"

  for expert in $panel; do
    step "Expert $expert scores case $CASE: every dimension 80 (EXPERT token, subject $expert)"
    token="$("$CTL" token --role EXPERT --sub "$expert")"
    call "$token" review score "$meeting" --case "$CASE" --all 80 \
      --opinion "$expert：建设必要，技术方案可行，建议核减部分投资（样例）" || fail "$expert scoring"
    note "$(python3 - "$work/out.json" "$CASE" <<'PY'
import json, sys
m, case = json.load(open(sys.argv[1], encoding="utf-8")), sys.argv[2]
done = {s["expert_id"] for s in m["scores"] if s["case_id"] == case}
left = [e["expert_id"] for e in m["panel"] if e["expert_id"] not in done]
print(f"{len(done)} of {len(m['panel'])} scored; waiting for: {', '.join(left) or 'nobody'}")
PY
)"
  done

  step "DRB concludes the expert review: passed, recommended budget 90 % of the budget applied for"
  case_etag
  total="$(get dossier.total_budget_fen "$work/case.json")"
  RECOMMENDED=$((total * 9 / 10))
  note "applied for $total fen; recommended $RECOMMENDED fen"
  call "$DRB" review conclude "$CASE" --etag "$CASE_ETAG" --pass --budget-fen "$RECOMMENDED" \
    --opinion "专家组认为项目建设必要、方案可行，建议按申报预算的90%安排（样例）" || fail "concluding the expert review"
  CASE_ETAG="$(get etag)"
  note "the case is in $(get stage), awaiting the revised report and revision list"

  step "UNIT reads the expert opinion (专家评审意见, review opinion-of $PROJECT)"
  show "$UNIT" review opinion-of "$PROJECT"

  step "UNIT uploads the revised feasibility report and the revision list again: re-check (R-R3)"
  upload_material REVISED_FEASIBILITY_REPORT 修改后的可行性研究报告-专家评审后.txt "修改后的可行性研究报告（专家评审后，样例）
按专家组意见核减投资至申报预算的90%。"
  upload_material REVISION_LIST 修改详细清单-专家评审后.txt "修改详细清单（专家评审后，样例）
1. 按专家意见核减投资；2. 调整建设周期安排。"
  case_etag
  stage="$(get stage "$work/case.json")"
  note "the case is in $stage"
  [ "$stage" = "CASE_STAGE_RE_CHECK" ] || fail "expected the case in RE_CHECK, it is in $stage"
}

# The re-check (复核审查, R-R3), the joint meeting (联席会议, R-R4) and the approval document.
recheck_to_approval() {
  local role token stage fiscal ref
  for role in DRB DRC FINANCE; do
    step "$role claims its re-check task and gives its opinion: pass (复核意见, R-R3)"
    token="$(role_token "$role")"
    claim_task "$token" "$role" recheck.opinion
    call "$token" review recheck-opinion "$CASE" --task "$TASK" --etag "$TASK_ETAG" --pass \
      --opinion "$role：已按专家意见修改，同意（样例）" || fail "$role giving its re-check opinion"
    python3 - "$work/out.json" <<'PY'
import json, sys
k = json.load(open(sys.argv[1], encoding="utf-8"))
left = [r for r in ("DRB", "DRC", "FINANCE") if not any(o["role"] == r for o in k["recheck_opinions"])]
print(f"    re-check opinions: {', '.join(o['role'] for o in k['recheck_opinions'])}; waiting for: {', '.join(left) or 'nobody'}")
PY
  done

  step "DRB concludes the re-check: passed, funding priority 1, next fiscal year, the recommended budget"
  review_today
  fiscal=$((YEAR + 1))
  case_etag
  call "$DRB" review recheck-conclude "$CASE" --etag "$CASE_ETAG" --pass --priority 1 --fiscal-year "$fiscal" \
    --amount-fen "$RECOMMENDED" --comment "已按专家意见修改，纳入${fiscal}年度资金安排（样例）" || fail "concluding the re-check"
  CASE_ETAG="$(get etag)"
  stage="$(get stage)"
  note "funding: priority $(get recheck.priority_rank), fiscal year $(get recheck.fiscal_year), $(get recheck.amount_fen) fen; the case is in $stage"
  [ "$stage" = "CASE_STAGE_JOINT_MEETING" ] || fail "expected the case in JOINT_MEETING, it is in $stage"

  step "DRB records the joint meeting (联席会议, R-R4), held review's today: passed"
  ref="${YEAR}年第$((RANDOM % 9 + 1))次规划土地数字管理联席会议（样例）"
  call "$DRB" review joint-meeting "$CASE" --etag "$CASE_ETAG" --pass --meeting-ref "$ref" --date "$TODAY" \
    --comment "同意立项（样例）" || fail "recording the joint meeting"
  CASE_ETAG="$(get etag)"
  stage="$(get stage)"
  note "$ref of $(get joint_meeting.held_on): passed $(get joint_meeting.passed); the case is in $stage"
  [ "$stage" = "CASE_STAGE_APPROVAL" ] || fail "expected the case in APPROVAL, it is in $stage"

  step "The case after the re-check and the joint meeting (review cases get $CASE)"
  show "$DRB" review cases get "$CASE"

  issue_approval "$RECOMMENDED" "the re-check's funding arrangement"
}

# The fast track (R-R5): DRB issues the approval document straight away, dated the review
# service's today, for the budget applied for. Sets PATH_TAKEN.
fast_track_approval() {
  local stage
  stage="$(get stage "$work/case.json")"
  [ "$stage" = "CASE_STAGE_APPROVAL" ] || fail "a fast-track case opens in APPROVAL; case $CASE is in $stage"
  note "fast track (R-R5) on the grounds $(get dossier.fast_track_grounds "$work/case.json"): no preliminary, expert or joint review"
  issue_approval "$(get dossier.total_budget_fen "$work/case.json")" "as applied"
  PATH_TAKEN="fast track (R-R5) → approval document $NUMBER issued → 已立项 APPROVED"
}

# issue_approval <budget fen> <whence>: DRB issues the approval document of $CASE (in APPROVAL,
# etag CASE_ETAG, dossier in $work/case.json) dated the review service's today; then intake's
# timeline must show the approval (its status moves on to 采购 PROCUREMENT as soon as the
# procurement service opens its case). Sets NUMBER.
issue_approval() {
  local budget="$1" whence="$2" stage months scope
  step "DRB issues the approval document (立项文件, R-R4), dated the review service's today"
  review_today
  months="$(get dossier.planned_construction_months "$work/case.json")"
  scope="$(python3 -c 'import json,sys; print("、".join(json.load(open(sys.argv[1]))["dossier"]["function_modules"]) or "申报的全部建设内容")' "$work/case.json")"
  NUMBER="上数〔${YEAR}〕$((RANDOM % 900 + 100))号"
  note "review's clock says $TODAY; budget $budget fen ($whence), $months months, scope: $scope"
  call "$DRB" review approve "$CASE" --etag "$CASE_ETAG" --number "$NUMBER" --date "$TODAY" \
    --budget-fen "$budget" --scope "$scope" --months "$months" || fail "issuing the approval document"
  stage="$(get stage)"
  note "approval document $(get approval.document_number) issued by $(get approval.issuers); the case is in $stage"
  [ "$stage" = "CASE_STAGE_APPROVED" ] || fail "expected the case APPROVED, it is in $stage"

  step "The approval document (review approval $PROJECT)"
  show "$UNIT" review approval "$PROJECT"

  step "Intake's status of project $PROJECT: 已立项 APPROVED (then 采购 PROCUREMENT when procurement opens)"
  if ! status_until "$PROJECT" '"APPROVED" in s["status"] or any(t.get("event_type") == "review.project.approved" for t in s.get("timeline", []))'; then
    show "$DRB" projects status "$PROJECT"
    echo "sample-walk: FAILED: intake's timeline of $PROJECT did not show the approval within ${EVENT_WAIT_SECS}s" >&2
    exit 1
  fi
  show "$DRB" projects status "$PROJECT"
}

# review_walk: the case of $PROJECT, then its fast track or its preliminary review.
review_walk() {
  if [ "$REVIEW" != 1 ]; then
    compliance_timeline
    note "review is not SERVING at $EGOVCTL_REVIEW_ENDPOINT: this project's walk ends at compliance"
    PATH_TAKEN="passed compliance; review not walked (review is not SERVING)"
    return 0
  fi
  wait_for_case
  if [ "$(get fast_track "$work/case.json")" = "true" ]; then
    fast_track_approval
  else
    preliminary_review
    expert_review
    step "Intake's status of project $PROJECT: re-check (复核审查 RE_CHECK)"
    status_until "$PROJECT" '"RE_CHECK" in s["status"]' || note "(the re-check is not on the timeline yet)"
    show "$DRB" projects status "$PROJECT"
    recheck_to_approval
    PATH_TAKEN="preliminary review (R-R1) → expert review, recommended $RECOMMENDED fen (R-R2) → re-check (R-R3) → joint meeting (R-R4) → approval document $NUMBER → 已立项 APPROVED"
  fi
}

# ==================================================================== procurement

# The walk's supplier and engineering supervisor (R-P3, R-P4), with unified social credit codes
# that pass GB 32100 (the 18th character, the check character, is right) and GB 11714 (the 17th,
# the organisation code's check digit): the supplier's is the standard's worked example, the
# supervisor's a code of 上城区 (division 330102) computed the same way.
SUPPLIER="杭州上城数智科技有限公司（样例）"
SUPPLIER_CODE="91350100M000100Y43"
SUPERVISOR_CODE="91330102MA2J00024J"

# procurement_today: today as the procurement service's clock sees it (Asia/Shanghai), in TODAY;
# whether its clock may be moved, in ADJUSTABLE; the reading stays in $work/clock.json.
procurement_today() {
  call "$OPERATOR" --endpoint "$EGOVCTL_PROCUREMENT_ENDPOINT" ops clock get || fail "reading the procurement service's clock"
  cp "$work/out.json" "$work/clock.json"
  TODAY="$(shanghai_today)"
  ADJUSTABLE="$(get adjustable)"
}

# pcase_etag: reads the procurement case of $PROJECT again into $work/pcase.json and PETAG.
pcase_etag() {
  call "$UNIT" procurement cases get "$PROJECT" || fail "reading the procurement case of $PROJECT"
  cp "$work/out.json" "$work/pcase.json"
  PETAG="$(get etag)"
}

# expect_state <state>: the last answer's case state is CASE_STATE_<state>; keeps its etag in PETAG.
expect_state() {
  local state
  state="$(get state)"
  PETAG="$(get etag)"
  [ "$state" = "CASE_STATE_$1" ] || fail "expected the procurement case in $1, it is in $state"
}

# Waits for the procurement case review's approval event opens (its id is the project's); the
# case is left in $work/pcase.json.
wait_for_procurement_case() {
  step "UNIT waits for the procurement case of project $PROJECT (opened by review's approval event)"
  local i
  for i in $(seq 1 $((EVENT_WAIT_SECS * 2))); do
    if call "$UNIT" procurement cases get "$PROJECT"; then
      cp "$work/out.json" "$work/pcase.json"
      expect_state PROCURING
      note "case $PROJECT is $(get state) (etag $PETAG), opened after ~$((i / 2)) s: approval $(get document_number) of $(get approved_on)"
      note "budget $(get budget_fen) fen, $(get planned_construction_months) months of construction, funding $(get funding_source); procure by $(get procurement_deadline) (R-P1)"
      return 0
    fi
    [ "$(error_code)" = "NOT_FOUND" ] || fail "reading procurement case $PROJECT"
    sleep 0.5
  done
  fail "no procurement case for project $PROJECT after ${EVENT_WAIT_SECS}s: is egov-procurement consuming review's events? (.egov-local/logs/procurement.log)"
}

# contract_terms <file> <start> <months> <name> <amount fen>: writes a terms file stating every
# R-P2 clause: construction from <start> for exactly <months> calendar months (through the day
# before the same day <months> later, month ends clamped), maintenance for three years after it.
contract_terms() {
  python3 - "$@" <<'PY'
import calendar, datetime, json, sys
path, start, months, name, amount = sys.argv[1], datetime.date.fromisoformat(sys.argv[2]), int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
def add_months(d, n):
    y, m = divmod(d.month - 1 + n, 12)
    y, m = d.year + y, m + 1
    return datetime.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))
end = add_months(start, months) - datetime.timedelta(days=1)
m_start = end + datetime.timedelta(days=1)
m_end = add_months(m_start, 36) - datetime.timedelta(days=1)
terms = {
    "_comment": "Written by sample-walk.sh: every R-P2 clause stated.",
    "project_name": name,
    "construction_start": start.isoformat(),
    "construction_end": end.isoformat(),
    "amount_fen": amount,
    "ip_owned_by_unit_or_joint": True,
    "data_owned_by_unit": True,
    "security_agreement": "SIGNED",
    "security_responsibility_letter": "SIGNED",
    "maintenance_scope": "系统软件缺陷修复、运行保障、安全漏洞修补及数据备份恢复（样例）",
    "maintenance_start": m_start.isoformat(),
    "maintenance_end": m_end.isoformat(),
    "maintenance_duty": "7×24小时故障响应，2小时内到场，重大故障24小时内恢复；每季度巡检（样例）",
    "security_duties_and_penalties": True,
    "overrun_penalty_clause": True,
}
json.dump(terms, open(path, "w", encoding="utf-8"), ensure_ascii=False, indent=2)
print(f"construction {start}..{end}, maintenance {m_start}..{m_end}")
PY
}

# move_clock_to_month <YYYY-MM>: moves every service's clock forward to 00:00:05 Asia/Shanghai on
# the first day of that month (the local profile's clocks move together).
move_clock_to_month() {
  local seconds
  seconds="$(python3 - "$1" "$work/clock.json" <<'PY'
import datetime, json, math, sys
y, m = map(int, sys.argv[1].split("-"))
now = datetime.datetime.fromisoformat(json.load(open(sys.argv[2]))["now"].replace("Z", "+00:00"))
target = datetime.datetime(y, m, 1, 0, 0, 5, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
print(max(1, math.ceil((target - now).total_seconds())))
PY
)"
  call "$OPERATOR" --endpoint "$EGOVCTL_PROCUREMENT_ENDPOINT" ops clock advance --seconds "$seconds" || fail "moving the clocks forward"
  note "every service's clock moved forward by $seconds s: now $(get now) (offset $(get offset_seconds) s)"
}

# procurement_walk: the approved $PROJECT from its procurement case to construction completed.
# Sets PROCUREMENT_PATH.
procurement_walk() {
  local budget months name amount fee span first current stage1 paid number month reported
  wait_for_procurement_case
  budget="$(get budget_fen "$work/pcase.json")"
  months="$(get planned_construction_months "$work/pcase.json")"
  name="$(get project_name "$work/pcase.json")"
  procurement_today

  step "UNIT records the procurement (采购完成, R-P3, R-P4): 政府采购 by open tender, supervision (监理) procured separately"
  amount=$((budget * 9 / 10))
  fee=$((budget * 2 / 100))
  note "supplier $SUPPLIER ($SUPPLIER_CODE), $amount fen of the $budget fen approved; supervisor $SUPERVISOR_CODE, fee $fee fen"
  call "$UNIT" procurement record "$PROJECT" --etag "$PETAG" --channel GOVERNMENT_PROCUREMENT --method 公开招标 \
    --supplier "$SUPPLIER" --supplier-credit-code "$SUPPLIER_CODE" --amount-fen "$amount" \
    --implementing-body "民政局信息中心（样例）" --responsible-person "张明（样例）" --completed-on "$TODAY" \
    --supervision-credit-code "$SUPERVISOR_CODE" --supervision-fee-fen "$fee" --supervision-separately-procured ||
    fail "recording the procurement"
  expect_state PROCURED
  note "procurement completed on $(get procurement.completed_on) by $(get procurement.channel) ($(get procurement.method)): the R-P1 deadline no longer runs"

  step "UNIT files the contract (合同备案, R-P2, R-P5, R-P9), signed and filed on procurement's today $TODAY"
  span="$(contract_terms "$work/contract-terms.json" "$TODAY" "$months" "$name" "$amount")"
  note "every R-P2 clause stated; the approval's name 「$name」; $span ($months months approved)"
  note "R-P9: 等保 level 3, an important information system"
  call "$UNIT" procurement file-contract "$PROJECT" --etag "$PETAG" --terms "$work/contract-terms.json" \
    --signed-on "$TODAY" --filed-on "$TODAY" --protection-level 3 --important-system || fail "filing the contract"
  expect_state CONSTRUCTION
  note "filed $(get contract.filed_on), late: $(get contract.late) (R-P5 deadline $(get contract.filing_deadline), $(get contract.working_days_taken) working days taken)"
  note "security: level $(get contract.security.classified_protection_level), yearly assessment $(get contract.security.yearly_assessment_required), 密评 $(get contract.security.cryptography_assessment_required); reports due from $(get first_report_month)"
  [ "$(get contract.security.cryptography_assessment_required)" = "true" ] || fail "an important system needs its cryptography assessment (R-P9)"

  step "UNIT sets the payment plan (分期付款, R-P6): 30 % 合同签订, 40 % 初验通过, 30 % 终验通过"
  call "$UNIT" procurement payment-plan "$PROJECT" --etag "$PETAG" \
    --stage "1=30%:合同签订" --stage "2=40%:初验通过" --stage "3=30%:终验通过" || fail "setting the payment plan"
  expect_state CONSTRUCTION
  python3 - "$work/out.json" <<'PY'
import json, sys
k = json.load(open(sys.argv[1], encoding="utf-8"))["contract"]
for s in k["payment_stages"]:
    print(f"    stage {s['stage_id']}: {s['ratio_bp'] / 100:.2f} % on {s['condition']} = {s['amount_fen']} fen")
PY
  stage1="$(get contract.payment_stages.0.amount_fen)"

  step "UNIT records stage 1's condition (合同签订) met, the signed contract as evidence"
  number="SC-${TODAY//-/}-$((RANDOM % 900 + 100))"
  call "$UNIT" procurement condition-met "$PROJECT" --etag "$PETAG" --stage 1 --evidence "合同编号 $number（样例）" ||
    fail "recording stage 1's condition"
  expect_state CONSTRUCTION
  note "stage 1 met: $(get contract.payment_stages.0.condition_met) on $(get contract.payment_stages.0.condition_met_on) by $(get contract.payment_stages.0.condition_met_by)"

  step "UNIT files stage 1's payment (资金支付报备, R-P6): $stage1 fen"
  call "$UNIT" procurement file-payment "$PROJECT" --etag "$PETAG" --stage 1 --amount-fen "$stage1" || fail "filing the payment"
  expect_state CONSTRUCTION
  paid="$(get contract.paid_fen)"
  note "paid $paid of $(get contract.terms.amount_fen) fen"
  [ "$paid" = "$stage1" ] || fail "expected $stage1 fen paid, the case says $paid"

  step "UNIT files this month's progress report (月度进展, R-P7)"
  first="$(get first_report_month)"
  [[ "$first" =~ ^[0-9]{4}-[0-9]{2}$ ]] || fail "the case under construction names no first report month (R-P7): $first"
  current="${TODAY:0:7}"
  month="$current"
  if [[ "$first" > "$current" ]]; then
    note "the contract was filed on $TODAY, on or after this month's report day: reports are due from $first (R-P7), none for $current"
    if [ "${EGOV_WALK_MOVE_CLOCK:-1}" != 0 ] && [ "$ADJUSTABLE" = "true" ]; then
      move_clock_to_month "$first"
      procurement_today
      month="$first"
      note "procurement's today is now $TODAY: $month's report is due"
    else
      month=""
      note "the clocks stay (EGOV_WALK_MOVE_CLOCK=0 or a fixed clock): no report is filed"
    fi
  fi
  reported="none due"
  if [ -n "$month" ]; then
    pcase_etag
    call "$UNIT" procurement report-progress "$PROJECT" --etag "$PETAG" --month "$month" --percent 10 \
      --summary "完成需求调研与详细设计，开发环境已就绪（样例）" --issues "无" || fail "filing the progress report for $month"
    expect_state CONSTRUCTION
    python3 - "$work/out.json" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1], encoding="utf-8"))["progress_reports"]:
    print(f"    {r['month']}: {r['percent_complete']} % reported {r['reported_on']} (due {r['due_on']}, late: {str(r['late']).lower()}) by {r['reported_by']}")
PY
    reported="$month reported"
  fi

  step "The procurement case (procurement cases get $PROJECT)"
  show "$UNIT" procurement cases get "$PROJECT"

  step "UNIT declares construction complete (建设完成) on procurement's today $TODAY"
  pcase_etag
  call "$UNIT" procurement complete "$PROJECT" --etag "$PETAG" --completed-on "$TODAY" \
    --summary "全部建设内容已完成并上线试运行（样例）" || fail "declaring construction complete"
  expect_state CONSTRUCTION_COMPLETED
  note "completed on $(get completion.completed_on), declared $(get completion.declared_on), $(get completion.overrun_days) day(s) past the contract period"

  step "Intake's status of project $PROJECT: 建设完成 CONSTRUCTION_COMPLETED (or already 初验, acceptance's next step), procurement's steps on the timeline"
  if ! status_until "$PROJECT" 'any(e["event_type"] == "procurement.construction.completed" for e in s["timeline"])'; then
    show "$DRB" projects status "$PROJECT"
    echo "sample-walk: FAILED: intake's status of $PROJECT did not reach CONSTRUCTION_COMPLETED within ${EVENT_WAIT_SECS}s" >&2
    exit 1
  fi
  show "$DRB" projects status "$PROJECT"
  PROCUREMENT_PATH="procurement (R-P3, R-P4) → contract filed (R-P2, R-P5, R-P9) → payment plan, stage 1 paid (R-P6) → progress: $reported (R-P7) → 建设完成 CONSTRUCTION_COMPLETED"
}

# move_clock_to_day <YYYY-MM-DD>: moves every service's clock forward to 10:00 Asia/Shanghai of
# that day (nothing when the clocks are already past it).
move_clock_to_day() {
  local seconds
  call "$OPERATOR" --endpoint "$EGOVCTL_PROCUREMENT_ENDPOINT" ops clock get || fail "reading the procurement service's clock"
  seconds="$(python3 - "$1" "$work/out.json" <<'PY'
import datetime, json, math, sys
now = datetime.datetime.fromisoformat(json.load(open(sys.argv[2]))["now"].replace("Z", "+00:00"))
d = datetime.date.fromisoformat(sys.argv[1])
target = datetime.datetime(d.year, d.month, d.day, 10, 0, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
print(max(0, math.ceil((target - now).total_seconds())))
PY
)"
  if [ "$seconds" -gt 0 ]; then
    call "$OPERATOR" --endpoint "$EGOVCTL_PROCUREMENT_ENDPOINT" ops clock advance --seconds "$seconds" || fail "moving the clocks forward"
    note "every service's clock moved forward by $seconds s to $1 10:00 (Asia/Shanghai): offset $(get offset_seconds) s"
  fi
  procurement_today
}

# acase <token>: reads the acceptance case of $PROJECT into $work/acase.json and AETAG.
acase() {
  call "${1:-$UNIT}" acceptance cases get "$PROJECT" || fail "reading the acceptance case of $PROJECT"
  cp "$work/out.json" "$work/acase.json"
  AETAG="$(get etag)"
}

# expect_acceptance <state>: the last answer's acceptance case state; keeps its etag in AETAG.
expect_acceptance() {
  local state
  state="$(get state)"
  AETAG="$(get etag)"
  [ "$state" = "CASE_STATE_$1" ] || fail "expected the acceptance case in $1, it is in $state"
}

# material <kind> <produced on> <text>: UNIT uploads an acceptance material (a small text file).
material() {
  printf '%s\n' "$3" >"$work/$1.txt"
  call "$UNIT" acceptance materials upload "$PROJECT" --kind "$1" --file "$work/$1.txt" --file-name "$1.txt" \
    --produced-on "$2" --project-name "$ANAME" || fail "uploading the material $1"
  note "$1: $(get file_name) sha256 $(get sha256 | cut -c1-16)… filed $(get filing.filed_on), late: $(get filing.late) (R-P5)"
}

# stage_met <condition>: whether procurement shows the payment stage with that condition met.
stage_met() {
  call "$UNIT" procurement cases get "$PROJECT" &&
    python3 -c 'import json,sys; k=json.load(open(sys.argv[1])); sys.exit(0 if any(s["condition"]==sys.argv[2] and s.get("condition_met") for s in k["contract"]["payment_stages"]) else 1)' "$work/out.json" "$1"
}

# pay_stage <n>: UNIT files the payment of stage <n> (R-P6) for its whole amount.
pay_stage() {
  local amount
  pcase_etag
  amount="$(get "contract.payment_stages.$(($1 - 1)).amount_fen" "$work/pcase.json")"
  call "$UNIT" procurement file-payment "$PROJECT" --etag "$PETAG" --stage "$1" --amount-fen "$amount" ||
    fail "filing the payment of stage $1"
  note "stage $1 paid: $amount fen; $(get contract.paid_fen) of $(get contract.terms.amount_fen) fen paid in all"
}

# acceptance_walk: the completed $PROJECT from its acceptance case to 运行 IN_OPERATION.
# Sets ACCEPTANCE_PATH.
acceptance_walk() {
  local i held modules=() built=() m trial_end
  step "UNIT waits for the acceptance case of project $PROJECT (opened by procurement's construction-completed event)"
  for i in $(seq 1 $((EVENT_WAIT_SECS * 2))); do
    if call "$UNIT" acceptance cases get "$PROJECT"; then break; fi
    [ "$(error_code)" = "NOT_FOUND" ] || fail "reading acceptance case $PROJECT"
    sleep 0.5
  done
  [ -s "$work/out.json" ] && [ "$(get project_id)" = "$PROJECT" ] || fail "no acceptance case for $PROJECT after ${EVENT_WAIT_SECS}s (.egov-local/logs/acceptance.log)"
  expect_acceptance INITIAL_ACCEPTANCE
  ANAME="$(get project_name)"
  note "case $PROJECT is $(get state): channel $(get channel), supplier $(get supplier_name), contract $(get contract_amount_fen) fen, 等保 level $(get classified_protection_level)"
  procurement_today
  held="$TODAY"

  step "UNIT files the initial-acceptance materials (专家意见、会议纪要、初验测试报告; R-A1, R-P5)"
  material INITIAL_PANEL_OPINIONS "$held" "初验专家组意见（样例）：同意通过初验。"
  material INITIAL_MINUTES "$held" "初验会议纪要（样例）：${held} 召开初验会，专家组五人。"
  material INITIAL_TEST_REPORT "$held" "初验测试报告（样例）：功能测试用例全部通过。"

  step "UNIT records the initial acceptance (初验, R-A1) held $held: five experts covering 信息技术, 网络安全, 业务领域"
  acase
  call "$UNIT" acceptance initial-acceptance "$PROJECT" --etag "$AETAG" --held-on "$held" \
    --panel "$root/crates/egovctl/samples/initial-acceptance-panel.json" --conclusion "同意通过初验，进入试运行（样例）" ||
    fail "recording the initial acceptance"
  expect_acceptance TRIAL_OPERATION
  trial_end="$(get trial.completes_on)"
  note "trial operation (试运行, R-A2) from $(get trial.started_on); the acceptance may be applied for from $trial_end"

  step "Procurement meets stage 2 (初验通过) on acceptance's event (R-P6)"
  for i in $(seq 1 $((EVENT_WAIT_SECS * 2))); do stage_met 初验通过 && break; sleep 0.5; done
  stage_met 初验通过 || fail "procurement did not mark the 初验通过 stage met within ${EVENT_WAIT_SECS}s"
  note "stage 2 (初验通过) met: its payment may be filed"
  step "UNIT files stage 2's payment (资金支付报备, R-P6)"
  pay_stage 2

  step "UNIT files the acceptance materials (功能性能测试、等保测评、信创评估、建设总结; R-A3)"
  material FUNCTION_PERFORMANCE_TEST_REPORT "$held" "功能性能测试报告（样例）：满足设计要求。"
  material CLASSIFIED_PROTECTION_ASSESSMENT "$held" "等级保护测评报告（样例）：三级，符合。"
  material XINCHUANG_ASSESSMENT "$held" "信创适配评估报告（样例）：已完成适配。"
  material CONSTRUCTION_SUMMARY "$held" "项目建设总结报告（样例）：建设内容全部完成。"

  if [ "${EGOV_WALK_MOVE_CLOCK:-1}" = 0 ] || [ "$ADJUSTABLE" != "true" ]; then
    ACCEPTANCE_PATH="初验 passed, 试运行 running until $trial_end (the clocks stay: EGOV_WALK_MOVE_CLOCK=0 or a fixed clock)"
    return 0
  fi
  step "Time passes: every service's clock moves to $trial_end, the trial's end (R-A2)"
  move_clock_to_day "$trial_end"

  step "PROVINCE (一体化数字资源系统) deposits the trial-operation report (试运行报告, R-A2)"
  PROVINCE="$("$CTL" token --role PROVINCE --sub province-sample-walk)"
  printf '试运行报告（样例）：%s 至 %s 运行平稳，无重大故障。\n' "$held" "$(python3 -c 'import datetime,sys; print(datetime.date.fromisoformat(sys.argv[1]) - datetime.timedelta(days=1))' "$trial_end")" >"$work/trial.txt"
  call "$PROVINCE" acceptance trial-report deposit "$PROJECT" --file "$work/trial.txt" --file-name 试运行报告.txt \
    --produced-on "$TODAY" --period-from "$held" \
    --period-to "$(python3 -c 'import datetime,sys; print(datetime.date.fromisoformat(sys.argv[1]) - datetime.timedelta(days=1))' "$trial_end")" \
    --external-reference "ZJ-SZZY-SAMPLE" --project-name "$ANAME" || fail "depositing the trial-operation report"
  note "report $(get document_id) ($(get file_name), sha256 $(get sha256 | cut -c1-16)…) from $(get source), filed $(get filing.filed_on)"

  step "UNIT applies for acceptance (验收申请, R-A3): acceptance checks review's dossier and procurement's case itself"
  acase
  # The modules the unit applied for (deploy/local/sample-draft.json), all built.
  while IFS= read -r m; do [ -n "$m" ] && modules+=(--built-module "$m") && built+=("$m"); done < <(python3 -c 'import json,sys; [print(m["name"]) for m in json.load(open(sys.argv[1], encoding="utf-8"))["modules"]]' "$root/deploy/local/sample-draft.json")
  note "built: ${built[*]}"
  call "$UNIT" acceptance apply "$PROJECT" --etag "$AETAG" "${modules[@]}" --goals-met --function-performance-met \
    --statement "建设内容已按立项批复和合同全部完成，试运行稳定（样例）" || fail "applying for acceptance"
  expect_acceptance APPLICATION_REVIEW
  python3 - "$work/out.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1], encoding="utf-8"))["applications"][-1]
for c in a["checks"]:
    print(f"    {'✓' if c['satisfied'] else '✗'} {c['item']}: {c['detail']}")
PY

  step "DRB approves the application; the acceptance goes to its organiser (R-A4: DRB, for government procurement)"
  call "$DRB" acceptance review-application "$PROJECT" --etag "$AETAG" --approve || fail "approving the acceptance application"
  expect_acceptance ACCEPTANCE

  step "DRB records the acceptance (验收, R-A4, R-A5) held $TODAY: five experts, their majority decides"
  call "$DRB" acceptance record-acceptance "$PROJECT" --etag "$AETAG" --held-on "$TODAY" \
    --experts "$root/crates/egovctl/samples/acceptance-experts.json" --conclusion "同意通过验收（样例）" \
    --costs-fen 1500000 || fail "recording the acceptance"
  expect_acceptance ACCEPTED
  note "accepted on $(get accepted_on): the system goes into use"

  step "Intake's status of project $PROJECT: 运行 IN_OPERATION; procurement meets stage 3 (终验通过)"
  status_until "$PROJECT" '"IN_OPERATION" in s["status"]' || { show "$DRB" projects status "$PROJECT"; fail "intake's status did not reach IN_OPERATION within ${EVENT_WAIT_SECS}s"; }
  note "intake: $(get status)"
  for i in $(seq 1 $((EVENT_WAIT_SECS * 2))); do stage_met 终验通过 && break; sleep 0.5; done
  stage_met 终验通过 || fail "procurement did not mark the 终验通过 stage met within ${EVENT_WAIT_SECS}s"
  step "UNIT files the last stage's payment (终验通过, R-P6): the contract is paid in full"
  pay_stage 3
  [ "$(get contract.paid_fen)" = "$(get contract.terms.amount_fen)" ] || fail "the contract is not paid in full: $(get contract.paid_fen) of $(get contract.terms.amount_fen) fen"
  ACCEPTANCE_PATH="初验 (R-A1), stage 2 paid → 试运行 $held..$trial_end (R-A2) → 验收申请 checked (R-A3) → 验收 by DRB (R-A4) → 运行 IN_OPERATION (R-A5), the last stage paid"
}

# evaluation_walk: the accepted $PROJECT catalogued by evaluation, its first evaluation published.
# Sets EVALUATION_PATH.
evaluation_walk() {
  local i due evaluation
  step "DRB waits for evaluation to catalogue the accepted application with its schedule (R-E1, R-E2)"
  for i in $(seq 1 $((EVENT_WAIT_SECS * 2))); do
    if call "$DRB" evaluation entries get "$PROJECT" && [ -n "$(get schedule.next_due_on)" ]; then break; fi
    sleep 0.5
  done
  due="$(get schedule.next_due_on)"
  [ -n "$due" ] || fail "evaluation did not catalogue $PROJECT within ${EVENT_WAIT_SECS}s (.egov-local/logs/evaluation.log)"
  note "entry $(get entry_id) $(get name): $(get state), $(get category), live since $(get go_live_on); first evaluation due $due"

  step "Time passes: every service's clock moves to $due, when the first evaluation falls due (R-E2)"
  move_clock_to_day "$due"
  for i in $(seq 1 $((EVENT_WAIT_SECS * 2))); do
    call "$DRB" evaluation entries get "$PROJECT" && [ "$(get schedule.due)" = true ] && break
    sleep 0.5
  done
  [ "$(get schedule.due)" = true ] || fail "the evaluation of $PROJECT did not fall due on $due within ${EVENT_WAIT_SECS}s"
  note "the evaluation is due (绩效评价 EVALUATION_DUE)"

  step "DRB opens the evaluation under the current indicator system (R-E2)"
  call "$DRB" evaluation open "$PROJECT" || fail "opening the evaluation"
  evaluation="$(get evaluations.-1.evaluation_id)"
  note "evaluation $evaluation opened (etag $(get etag))"

  step "DRB scores its indicators (USAGE, EFFECT, SHARING, SECURITY); FINANCE scores COST"
  call "$DRB" evaluation record-scores "$PROJECT" --etag "$(get etag)" --evaluation "$evaluation" \
    --scores "$root/crates/egovctl/samples/evaluation-scores-drb.json" || fail "DRB scoring"
  FINANCE="$("$CTL" token --role FINANCE --sub finance-sample-walk)"
  call "$FINANCE" evaluation record-scores "$PROJECT" --etag "$(get etag)" --evaluation "$evaluation" \
    --scores "$root/crates/egovctl/samples/evaluation-scores-finance.json" || fail "FINANCE scoring"

  step "DRB publishes the evaluation: grade, weighted score and funding recommendation"
  call "$DRB" evaluation publish "$PROJECT" --etag "$(get etag)" --evaluation "$evaluation" \
    --comment "运行平稳，数据共享仍需加强（样例）" || fail "publishing the evaluation"
  python3 - "$work/out.json" <<'PY'
import json, sys
e = json.load(open(sys.argv[1], encoding="utf-8"))
r = e["evaluations"][-1]
print(f"    {r.get('status')}: grade {r.get('grade')}, weighted score {int(r.get('score_centi') or 0) / 100:.2f}, passed {r.get('passed')}; funding {r.get('funding_recommendation', '')} ({int(r.get('funding_bp') or 0) / 100:.2f} %)")
print(f"    next evaluation due {(e.get('schedule') or {}).get('next_due_on')}")
PY
  EVALUATION_PATH="catalogued (R-E1) → 绩效评价 due $due (R-E2) → scored by DRB and FINANCE → published"
}

# ==================================================================== the projects

part "Part 1: a business application (deploy/local/sample-draft.json)"
intake_walk sample-draft.json \
  "电子政务项目申报表（样例）
项目名称：上城区社会救助综合服务应用（浙政钉端）
申报单位：民政局（U-CIVIL）
总投资：120 万元，其中网络和数据安全 7.2 万元（6%）" \
  "项目可行性研究报告（样例）
一、项目背景与必要性：社会救助对象动态监测和一件事联办，民政局核心业务。
二、一单位一平台实施路径；三、与其它部门业务关系；四、现有系统与计划；
五、建设内容：救助对象动态监测预警、救助事项一件事联办；六、投资估算（需求导向）。"
review_walk
APP1="$APP"
PROJECT1="$PROJECT"
PATH1="$PATH_TAKEN"

part "Part 2: a fast-track application (deploy/local/sample-draft-fast-track.json, R-R5)"
intake_walk sample-draft-fast-track.json \
  "电子政务项目申报表（样例）
项目名称：上城区困难群众价格临时补贴智能发放应用（上级专项）
申报单位：民政局（U-CIVIL）
总投资：50 万元，全额由上级专项转移支付；其中网络和数据安全 3 万元（6%）" \
  "项目可行性研究报告（样例）
一、项目背景与必要性：价格临时补贴联动机制触发后按时足额发放，民政局核心业务。
二、资金来源：上级专项转移支付，全额保障（非区级财政性资金，适用快速通道）。
三、建设内容：价格临时补贴智能核发；四、投资估算（需求导向）。"
review_walk
APP2="$APP"
PATH2="$PATH_TAKEN"

if [ "$REVIEW" = 1 ] && [ "$PROCUREMENT" = 1 ]; then
  part "Part 3: the business application goes on to procurement and construction (采购建设)"
  PROJECT="$PROJECT1"
  procurement_walk
  PATH1="$PATH1 → $PROCUREMENT_PATH"
  if [ "$ACCEPTANCE" = 1 ]; then
    part "Part 4: the business application is accepted (验收)"
    acceptance_walk
    PATH1="$PATH1 → $ACCEPTANCE_PATH"
    if [ "$EVALUATION" = 1 ] && [[ "$ACCEPTANCE_PATH" == *IN_OPERATION* ]]; then
      part "Part 5: the application in use is evaluated (绩效评价)"
      evaluation_walk
      PATH1="$PATH1 → $EVALUATION_PATH"
    fi
  fi
elif [ "$REVIEW" = 1 ]; then
  PATH1="$PATH1; procurement not walked (procurement is not SERVING)"
fi

if [ "$REVIEW" = 1 ]; then
  part "The business application's cross-service timeline (egovctl projects timeline $PROJECT1)"
  show "$DRB" projects timeline "$PROJECT1"
  if [ "$ACCEPTANCE" = 1 ] && [ "$EVALUATION" = 1 ]; then
    part "Reconcile: every service's view of every project compared (egovctl reconcile)"
    if EGOV_TOKEN="$OPERATOR" "$CTL" reconcile >"$work/reconcile.txt" 2>&1; then
      indent <"$work/reconcile.txt"
    else
      indent <"$work/reconcile.txt"
      echo "sample-walk: FAILED: the services disagree (egovctl reconcile)" >&2
      exit 1
    fi
  fi
fi

printf '\nsample walk done:\n'
printf '  business application %s: %s\n' "$APP1" "$PATH1"
printf '  fast-track application %s: %s\n' "$APP2" "$PATH2"

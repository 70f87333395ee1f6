#!/usr/bin/env bash
# Drives a sample project through intake with egovctl, as three people would:
#   DRB (区数据资源局) registers 民政局 as unit U-CIVIL and opens this year's round;
#   UNIT (U-CIVIL) drafts the application from sample-draft.json and uploads its dossier;
#   LEADER (分管区领导) consents; UNIT submits; DRB passes the compliance review;
# and prints the project's status timeline.
#
# A round for next year can only be opened on or before 09-30 (R-I3). After that date, or when
# the round refuses the submission for the date, the walk goes the supplementary way (增补项目):
# UNIT asks with an urgency justification, DRB accepts, UNIT submits without a round.
#
# Environment: EGOVCTL (default target/release/egovctl), EGOVCTL_ENDPOINT (intake, default
# http://127.0.0.1:50051), EGOV_AUTH__HS256_SECRET (tokens are minted with it; default: the
# local profile's). Needs python3 to read the JSON answers.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CTL="${EGOVCTL:-$root/target/release/egovctl}"
export EGOVCTL_ENDPOINT="${EGOVCTL_ENDPOINT:-http://127.0.0.1:50051}"
[ -x "$CTL" ] || { echo "sample-walk: $CTL is missing: cargo build --release -p egovctl" >&2; exit 1; }
command -v python3 >/dev/null || { echo "sample-walk: python3 is needed to read egovctl's JSON" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
n=0

step() { n=$((n + 1)); printf '\n[%d] %s\n' "$n" "$*"; }
note() { printf '    %s\n' "$*"; }

# call <token> <egovctl args...>: runs egovctl --json as the token's holder; the answer goes to
# $work/out.json, an error to $work/err.json. Returns egovctl's exit code.
call() {
  local token="$1"; shift
  EGOV_TOKEN="$token" "$CTL" --json "$@" >"$work/out.json" 2>"$work/err.json"
}

# get <dotted.path> [file]: a field of the last answer.
get() {
  python3 - "$1" "${2:-$work/out.json}" <<'PY'
import json, sys
value = json.load(open(sys.argv[2], encoding="utf-8"))
for key in sys.argv[1].split("."):
    value = value[int(key)] if isinstance(value, list) else value.get(key, "")
print(str(value).lower() if isinstance(value, bool) else value)
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

# Reads the application's current etag (uploads change the aggregate without returning it).
refresh() {
  call "$UNIT" applications get "$APP" || fail "could not read application $APP"
  ETAG="$(get etag)"
  note "application $APP is $(get state) (etag $ETAG)"
}

echo "sample walk against $EGOVCTL_ENDPOINT"
"$CTL" health >/dev/null 2>&1 || { echo "sample-walk: intake is not SERVING at $EGOVCTL_ENDPOINT (deploy/local/up.sh starts it)" >&2; exit 1; }

step "Minting local tokens for DRB, UNIT (U-CIVIL), LEADER, and OPERATOR (to read the service clock)"
DRB="$("$CTL" token --role DRB --sub drb-sample-walk)"
UNIT="$("$CTL" token --role UNIT --unit U-CIVIL --sub civil-sample-walk)"
LEADER="$("$CTL" token --role LEADER --sub leader-sample-walk)"
OPERATOR="$("$CTL" token --role OPERATOR --sub ops-sample-walk)"
note "HS256 tokens of the local profile, valid 12 hours"

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
  # Asia/Shanghai is UTC+8 all year.
  today="$(python3 -c 'import sys,datetime; t=datetime.datetime.fromisoformat(sys.argv[1].replace("Z","+00:00")); print((t+datetime.timedelta(hours=8)).date())' "$(get now)")"
  year="${today%%-*}"
  note "the service's clock says $today (Asia/Shanghai)"
else
  year="$(TZ=Asia/Shanghai date +%Y)"
  note "the service's clock is not readable; using this machine's date, year $year"
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
  note "=> this walk applies as a supplementary project (增补项目) instead"
fi

step "UNIT drafts an application from deploy/local/sample-draft.json"
call "$UNIT" applications create --unit U-CIVIL --draft "$root/deploy/local/sample-draft.json" || fail "creating the application"
APP="$(get application_id)"
PROJECT="$(get project_id)"
ETAG="$(get etag)"
note "application $APP (project $PROJECT): $(get name), $(get state)"

step "UNIT uploads the application form and the feasibility study report (R-I4)"
cat >"$work/申报表.txt" <<'DOC'
电子政务项目申报表（样例）
项目名称：上城区社会救助综合服务应用（浙政钉端）
申报单位：民政局（U-CIVIL）
总投资：120 万元，其中网络和数据安全 7.2 万元（6%）
DOC
cat >"$work/可行性研究报告.txt" <<'DOC'
项目可行性研究报告（样例）
一、项目背景与必要性：社会救助对象动态监测和一件事联办，民政局核心业务。
二、一单位一平台实施路径；三、与其它部门业务关系；四、现有系统与计划；
五、建设内容：救助对象动态监测预警、救助事项一件事联办；六、投资估算（需求导向）。
DOC
call "$UNIT" documents upload --application "$APP" --kind APPLICATION_FORM --file "$work/申报表.txt" || fail "uploading the application form"
note "APPLICATION_FORM $(get document_id): $(get size_bytes) bytes, sha256 $(get sha256)"
call "$UNIT" documents upload --application "$APP" --kind FEASIBILITY_REPORT --file "$work/可行性研究报告.txt" || fail "uploading the feasibility report"
note "FEASIBILITY_REPORT $(get document_id): $(get size_bytes) bytes, sm3 $(get sm3)"
refresh

step "LEADER records the district leader's consent (分管区领导同意, R-I6)"
call "$LEADER" consent record "$APP" --comment "同意申报（样例）" || fail "recording the leader's consent"
ETAG="$(get etag)"
note "leader consent recorded: $(get leader_consent_recorded) (etag $ETAG)"

supplementary() {
  step "UNIT asks to apply as a supplementary project, with an urgency justification (R-I3)"
  refresh
  call "$UNIT" supplementary request "$APP" --etag "$ETAG" \
    --justification "省民政厅要求年内上线救助对象动态监测，无法等待下一年度集中申报（一事一议）" ||
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
EGOV_TOKEN="$DRB" "$CTL" compliance checklist "$APP" | sed 's/^./    &/'

step "DRB decides: every item passes"
call "$DRB" compliance decide "$APP" --etag "$ETAG" --all-pass --comment "材料齐全、合规（样例）" || fail "deciding compliance"
ETAG="$(get etag)"
state="$(get state)"
note "application is $state"
[ "$state" = "APPLICATION_STATE_COMPLIANCE_PASSED" ] || fail "expected COMPLIANCE_PASSED, the application is $state"

step "The project's status and timeline (projects status $PROJECT)"
# The timeline is built from events, which arrive a moment after the change: wait for the
# compliance decision to appear (at most 15 s), then print whatever is there.
for _ in $(seq 1 30); do
  if call "$DRB" projects status "$PROJECT" &&
    python3 -c 'import json,sys; t=json.load(open(sys.argv[1]))["timeline"]; sys.exit(0 if any("compliance" in e["event_type"] for e in t) else 1)' "$work/out.json"; then
    break
  fi
  sleep 0.5
done
EGOV_TOKEN="$DRB" "$CTL" projects status "$PROJECT" | sed 's/^./    &/'

printf '\nsample walk done: application %s passed compliance and goes to preliminary review.\n' "$APP"

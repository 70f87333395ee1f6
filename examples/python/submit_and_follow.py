#!/usr/bin/env python3
"""An outside platform's client of egov-suite: submits a unit's application and follows it to
the district's compliance decision. The starting point an integrating platform copies.

Only the repository's protos and grpcio are needed: the Python stubs are generated from proto/
when the script starts (grpcio-tools), into a temporary directory. Rich error details
(google.rpc.BadRequest / PreconditionFailure with the rule ids) are read with grpcio-status.

    python submit_and_follow.py --target 127.0.0.1:50051 --token "$UNIT_TOKEN" \
        --unit U-CIVIL --round ROUND_ID [--timeout 60]

Prints one JSON object: the application id, the rule ids of the refusal met on the way (a
submission before the documents are uploaded), and the state the application ended in.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

PROTO_ROOT = Path(__file__).resolve().parents[2] / "proto"


def generate_stubs() -> str:
    """Compiles the intake API (and what it imports) into Python modules; returns their dir."""
    import grpc_tools
    from grpc_tools import protoc

    out = tempfile.mkdtemp(prefix="egov-stubs-")
    wkt = os.path.join(os.path.dirname(grpc_tools.__file__), "_proto")
    files = ["egov/common/v1/common.proto", "egov/evaluation/v1/evaluation.proto", "egov/intake/v1/intake.proto"]
    args = ["protoc", f"-I{PROTO_ROOT}", f"-I{wkt}", f"--python_out={out}", f"--grpc_python_out={out}", *files]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed on " + ", ".join(files))
    sys.path.insert(0, out)
    return out


def refusal(err) -> dict:
    """The rule ids and fields of a refused call (google.rpc details of the status)."""
    from google.rpc import error_details_pb2
    from grpc_status import rpc_status

    found = {"code": err.code().name, "rule_ids": [], "fields": []}
    status = rpc_status.from_call(err)
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.PreconditionFailure.DESCRIPTOR):
            pf = error_details_pb2.PreconditionFailure()
            detail.Unpack(pf)
            found["rule_ids"] += [v.type for v in pf.violations]
        elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            br = error_details_pb2.BadRequest()
            detail.Unpack(br)
            found["fields"] += [v.field for v in br.field_violations]
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--target", required=True, help="host:port of the intake service")
    ap.add_argument("--token", required=True, help="a UNIT bearer token (JWT) from the district IdP")
    ap.add_argument("--unit", required=True, help="the unit the token acts for")
    ap.add_argument("--round", required=True, help="the open application round's id")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the decision")
    a = ap.parse_args()

    generate_stubs()
    import grpc

    pb = importlib.import_module("egov.intake.v1.intake_pb2")
    rpc = importlib.import_module("egov.intake.v1.intake_pb2_grpc")

    channel = grpc.insecure_channel(a.target)  # production: grpc.secure_channel with TLS credentials
    intake = rpc.IntakeStub(channel)
    meta = [("authorization", f"Bearer {a.token}")]

    draft = pb.ApplicationDraft(
        name="社会救助一件事",
        category=pb.PROJECT_CATEGORY_DATA_RESOURCE,
        build_type=pb.BUILD_TYPE_NEW,
        funding_source=pb.FUNDING_SOURCE_SUPERIOR_TRANSFER,
        fast_track_grounds=[pb.FAST_TRACK_GROUND_NON_DISTRICT_FUNDING],
        planned_construction_months=12,
        content_kinds=[pb.CONTENT_KIND_SOFTWARE_DEVELOPMENT],
        necessity=pb.NecessityStatement(
            core_business="社会救助",
            one_platform_path="民政一平台",
            relations_with_other_units="与街道协同",
            existing_systems_and_plans="无",
            terminals=[pb.TERMINAL_ZHEZHENGDING],
            uses_public_data_platform=True,
        ),
        modules=[pb.FunctionModule(name="救助审核", description="救助对象审核")],
        budget=[
            pb.BudgetLine(module="救助审核", category=pb.COST_CATEGORY_SOFTWARE_DEVELOPMENT, amount_fen=9_500_000, rationale="按人天测算"),
            pb.BudgetLine(module="救助审核", category=pb.COST_CATEGORY_SECURITY, amount_fen=500_000, rationale="等保测评"),
        ],
    )
    # One request id per intended creation: a retry after a timeout sends the same one and gets
    # the same application back.
    create = pb.CreateApplicationRequest(request_id=str(uuid.uuid4()), lead_unit_id=a.unit, draft=draft)
    app = intake.CreateApplication(create, metadata=meta, timeout=10)
    retried = intake.CreateApplication(create, metadata=meta, timeout=10)
    assert retried.application_id == app.application_id, "the same request_id must give the same application"

    # Submitting before the documents are uploaded is refused with the rule that requires them.
    refused = None
    try:
        intake.SubmitApplication(
            pb.SubmitApplicationRequest(application_id=app.application_id, etag=app.etag, round_id=a.round),
            metadata=meta,
            timeout=10,
        )
    except grpc.RpcError as err:
        refused = refusal(err)

    for kind, text in ((pb.DOCUMENT_KIND_APPLICATION_FORM, "申报表"), (pb.DOCUMENT_KIND_FEASIBILITY_REPORT, "可行性研究报告")):
        header = pb.DocumentUploadHeader(
            application_id=app.application_id,
            kind=kind,
            file_name="doc.pdf",
            content_type="application/pdf",
            request_id=str(uuid.uuid4()),
        )
        parts = iter([pb.UploadDocumentRequest(header=header), pb.UploadDocumentRequest(chunk=text.encode())])
        intake.UploadDocument(parts, metadata=meta, timeout=10)

    # Etags: read the current version, then submit with it.
    app = intake.GetApplication(pb.GetApplicationRequest(application_id=app.application_id), metadata=meta, timeout=10)
    app = intake.SubmitApplication(
        pb.SubmitApplicationRequest(application_id=app.application_id, etag=app.etag, round_id=a.round),
        metadata=meta,
        timeout=10,
    )

    # Follow it until the district decides (polling here; a platform may also bind a queue to
    # egov.events for intake.application.compliance_passed / compliance_failed).
    decided = {pb.APPLICATION_STATE_COMPLIANCE_PASSED, pb.APPLICATION_STATE_COMPLIANCE_FAILED, pb.APPLICATION_STATE_ENDED}
    deadline = time.monotonic() + a.timeout
    while app.state not in decided:
        if time.monotonic() > deadline:
            print(json.dumps({"application_id": app.application_id, "state": pb.ApplicationState.Name(app.state), "timed_out": True}))
            return 1
        time.sleep(0.5)
        app = intake.GetApplication(pb.GetApplicationRequest(application_id=app.application_id), metadata=meta, timeout=10)

    print(
        json.dumps(
            {
                "application_id": app.application_id,
                "project_id": app.project_id,
                "refused_before_documents": refused,
                "state": pb.ApplicationState.Name(app.state),
            },
            ensure_ascii=False,
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

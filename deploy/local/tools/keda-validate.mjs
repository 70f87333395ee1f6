// Validates KEDA custom resources (keda.sh/v1alpha1) against the schemas that
// @kubernetes-models/keda (pinned in package-lock.json) generates from KEDA's API types.
// Input on stdin: a JSON array of objects. Output: one line per invalid object; exit 1 if any.
import { ScaledObject } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject";
import { ScaledJob } from "@kubernetes-models/keda/keda.sh/v1alpha1/ScaledJob";
import { TriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication";
import { ClusterTriggerAuthentication } from "@kubernetes-models/keda/keda.sh/v1alpha1/ClusterTriggerAuthentication";

const models = { ScaledObject, ScaledJob, TriggerAuthentication, ClusterTriggerAuthentication };
let input = "";
for await (const chunk of process.stdin) input += chunk;
let failed = 0;
for (const obj of JSON.parse(input)) {
  const where = `${obj.kind}/${obj.metadata?.name ?? "?"}`;
  const Model = obj.apiVersion === "keda.sh/v1alpha1" ? models[obj.kind] : undefined;
  if (!Model) {
    console.log(`${where}: no KEDA schema for ${obj.apiVersion} ${obj.kind}`);
    failed++;
    continue;
  }
  try {
    new Model(obj).validate();
  } catch (e) {
    console.log(`${where}: ${e.message}`);
    failed++;
  }
}
process.exit(failed ? 1 : 0);

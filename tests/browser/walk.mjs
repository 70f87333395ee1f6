// The console in a real browser (Debian's Chromium, headless, driven by playwright-core): one
// project walked through the console alone, from the unit's application to DRB's compliance
// decision, against the real services that tests/console.rs started. Every page is kept as a
// screenshot (desktop and phone width); every form control must have a label, keyboard focus
// must reach the controls, and no page may be wider than a phone's screen.
//
//   node tests/browser/walk.mjs <console url> <screenshot dir>
// Environment: EGOV_TOOLS_DIR (deploy/local/tools, where npm installed playwright-core),
// EGOV_CHROMIUM (default /usr/bin/chromium).
import { createRequire } from "node:module";
import { mkdirSync } from "node:fs";
import { join } from "node:path";

const [url, out] = process.argv.slice(2);
if (!url || !out) throw new Error("usage: walk.mjs <console url> <screenshot dir>");
const require = createRequire(join(process.env.EGOV_TOOLS_DIR || "deploy/local/tools", "package.json"));
const { chromium } = require("playwright-core");
mkdirSync(out, { recursive: true });

const browser = await chromium.launch({
  executablePath: process.env.EGOV_CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "zh-CN", timezoneId: "Asia/Shanghai" });
const page = await context.newPage();
const problems = [];
page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
page.on("console", (m) => m.type() === "error" && !/Failed to load resource/.test(m.text()) && problems.push(`console error: ${m.text()}`));
let shot = 0;

function step(what) {
  console.log(`walk: ${what}`);
}

async function snap(name) {
  await page.waitForLoadState("networkidle");
  await page.screenshot({ path: join(out, `${String(++shot).padStart(2, "0")}-${name}.png`), fullPage: true });
  await checkPage(name);
}

// Every control labelled; nothing wider than the viewport.
async function checkPage(name) {
  const unlabelled = await page.evaluate(() =>
    [...document.querySelectorAll("input, select, textarea")]
      .filter((el) => el.type !== "hidden")
      .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute("aria-label"))
      .map((el) => el.outerHTML.slice(0, 120)));
  if (unlabelled.length) problems.push(`${name}: controls without a label: ${unlabelled.join(" | ")}`);
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (wide > 1) problems.push(`${name}: the page is ${wide}px wider than the window`);
}

async function go(hash) {
  const target = `${url}${hash}`;
  // The same address again changes no hash: load the page anew, so its form starts empty.
  if (page.url() === target) await page.reload();
  else await page.goto(target);
  await page.waitForLoadState("networkidle");
}

async function signIn(role, unit = "", subject = "") {
  await page.evaluate(() => fetch("/auth/signout", { method: "POST" }));
  await go("#/signin");
  await page.waitForSelector("#role");
  await page.selectOption("#role", role);
  await page.fill("#unit", unit);
  await page.fill("#subject", subject);
  await page.click("button[type=submit]");
  await page.waitForFunction(() => location.hash === "#/todo");
  await page.waitForSelector("#who button");
}

async function fill(path, value) {
  const el = page.locator(`[data-path="${path}"]`).locator("input, select, textarea").first();
  const tag = await el.evaluate((e) => e.tagName + ":" + e.type);
  if (tag.startsWith("SELECT")) await el.selectOption(value);
  else if (tag.endsWith("checkbox")) await el.setChecked(value);
  else await el.fill(String(value));
}

// A read through the console's bridge, as the pages make it (for waiting on events between
// services; every change in the walk is made on a page's form).
async function read(backend, service, method, body = {}) {
  return page.evaluate(async ([b, s, m, q]) => {
    const r = await fetch(`/api/${b}/${s}/${m}`, { method: "POST", headers: { "content-type": "application/json", "x-egov-console": "1" }, body: JSON.stringify(q) });
    return { status: r.status, body: await r.json().catch(() => ({})) };
  }, [backend, service, method, body]);
}

async function until(what, check, timeout = 30000) {
  const end = Date.now() + timeout;
  for (;;) {
    if (await check()) return;
    if (Date.now() > end) throw new Error(`waited ${timeout / 1000}s for ${what}`);
    await page.waitForTimeout(250);
  }
}

// A form of 业务办理 opened at its address, with what the page was given in the query.
async function form(backend, service, method, query = {}) {
  const q = new URLSearchParams(query).toString();
  await go(`#/do/${backend}/${service}/${method}${q ? "?" + q : ""}`);
  await page.waitForSelector("form[aria-label] button[type=submit]");
}

// The services' day (Asia/Shanghai), as the walk moved their clock: a Date at UTC midnight.
let day = null;
const addDays = (d, n) => new Date(d.getTime() + n * 86400000);
const civil = (d) => d.toISOString().slice(0, 10);
const BACKENDS = ["intake", "review", "procurement", "acceptance", "evaluation"];

async function clocksAgree(offset) {
  await until("every service's clock follows the broadcast", async () => {
    for (const b of BACKENDS) {
      const c = await read(b, "egov.common.v1.Operations", "GetClock");
      if (c.status !== 200 || String(c.body.offset_seconds) !== String(offset)) return false;
    }
    return true;
  });
}

// Operations moves the services' clock n days on (Operations.AdvanceClock, by broadcast).
async function advanceDays(n) {
  await signIn("OPERATOR");
  await form("intake", "egov.common.v1.Operations", "AdvanceClock");
  await fill("seconds", n * 86400);
  const moved = await submitAndExpectOk("拨动时钟");
  await clocksAgree(moved.offset_seconds);
  day = addDays(day, n);
}

async function addRow(path) {
  await page.locator(`[data-path="${path}"] > fieldset > button`).last().click();
}

// Submits the page's form and returns the service's answer (the bridge's JSON).
async function submitAndExpectOk(buttonText) {
  await page.evaluate(() => document.querySelectorAll(".ok, .refusal").forEach((el) => el.remove()));
  // The form's own call: a page's reads (Get…, List…, of a page still loading) may answer meanwhile.
  const answered = page.waitForResponse((r) => r.request().method() === "POST" && /\/api\/[a-z]+\//.test(r.url())
    && !/\/(Get|List)[A-Za-z]*$/.test(r.url()), { timeout: 30000 });
  await page.getByRole("button", { name: buttonText }).click();
  const outcome = await Promise.race([
    page.waitForSelector(".ok", { timeout: 30000 }).then(() => "ok"),
    page.waitForSelector(".refusal", { timeout: 30000 }).then(() => "refused"),
  ]);
  if (outcome !== "ok") throw new Error(`${buttonText}: refused: ${await page.locator(".refusal").innerText()}`);
  return (await answered).json().catch(() => ({}));
}

try {
  step("the console opens on its sign-in page, in Chinese, and the keyboard reaches the form");
  await page.goto(url);
  await page.waitForFunction(() => location.hash === "#/signin");
  await page.waitForSelector("#role");
  if ((await page.getAttribute("html", "lang")) !== "zh-CN") problems.push("the page is not marked zh-CN");
  const first = await page.evaluate(() => document.querySelector("a[href], button, input, select, textarea").textContent);
  if (first !== "跳到正文") problems.push(`the first focusable element is ${JSON.stringify(first)}, not the skip link`);
  // After a page is drawn the focus is on its main content: Tab goes on to the first control.
  if ((await page.evaluate(() => document.activeElement.id)) !== "main") problems.push("the drawn page does not take the focus");
  await page.keyboard.press("Tab");
  if ((await page.evaluate(() => document.activeElement.id)) !== "role") problems.push("Tab from the page does not reach 角色");
  await page.keyboard.press("Tab");
  if ((await page.evaluate(() => document.activeElement.id)) !== "unit") problems.push("Tab from 角色 does not reach 单位编码");
  await snap("signin");

  step("operations move the services' clock to the spring, when rounds open (Operations.AdvanceClock)");
  await signIn("OPERATOR");
  const now = new Date();
  const spring = new Date(Date.UTC(now.getUTCFullYear() + 1, 2, 2, 2, 0, 0)); // 10:00 Shanghai, 2 March
  await go("#/do/intake/egov.common.v1.Operations/AdvanceClock");
  await fill("seconds", Math.floor((spring - now) / 1000));
  const moved = await submitAndExpectOk("拨动时钟");
  await clocksAgree(moved.offset_seconds);
  day = new Date(Date.UTC(spring.getUTCFullYear(), spring.getUTCMonth(), spring.getUTCDate()));
  await snap("advance-clock");

  step("DRB registers the unit and opens the round");
  await signIn("DRB");
  await go("#/do/intake/egov.intake.v1.Intake/CreateUnit");
  await fill("unit_id", "U-CIVIL");
  await fill("name", "区民政局");
  await fill("district_budget_unit", true);
  await submitAndExpectOk("登记建设单位");
  await snap("create-unit");
  await go("#/do/intake/egov.intake.v1.Intake/OpenRound");
  await fill("target_year", spring.getUTCFullYear() + 1);
  await submitAndExpectOk("开启申报批次");

  step("the unit fills the application form: function modules, budget lines, necessity");
  await signIn("UNIT", "U-CIVIL");
  await snap("todo-unit");
  await go("#/apply");
  await page.waitForSelector('[data-path="draft.name"]');
  await fill("draft.name", "社会救助一件事");
  await fill("draft.category", "PROJECT_CATEGORY_DATA_RESOURCE");
  await fill("draft.build_type", "BUILD_TYPE_NEW");
  await fill("draft.funding_source", "FUNDING_SOURCE_DISTRICT_FISCAL");
  await fill("draft.planned_construction_months", 12);
  await addRow("draft.content_kinds");
  await page.locator('[data-path="draft.content_kinds"] .rows select').first().selectOption("CONTENT_KIND_SOFTWARE_DEVELOPMENT");
  await fill("draft.necessity.core_business", "社会救助");
  await fill("draft.necessity.one_platform_path", "民政一平台");
  await fill("draft.necessity.relations_with_other_units", "与街道协同");
  await fill("draft.necessity.existing_systems_and_plans", "无");
  await addRow("draft.necessity.terminals");
  await page.locator('[data-path="draft.necessity.terminals"] .rows select').first().selectOption("TERMINAL_ZHEZHENGDING");
  await fill("draft.necessity.uses_public_data_platform", true);
  await addRow("draft.modules");
  await fill("draft.modules[0].name", "救助审核");
  await fill("draft.modules[0].description", "救助对象审核");
  await addRow("draft.budget");
  await addRow("draft.budget");
  await fill("draft.budget[0].module", "救助审核");
  await fill("draft.budget[0].category", "COST_CATEGORY_SOFTWARE_DEVELOPMENT");
  await fill("draft.budget[0].amount_fen", 9500000);
  await fill("draft.budget[0].rationale", "按人天测算");
  await fill("draft.budget[1].module", "救助审核");
  await fill("draft.budget[1].category", "COST_CATEGORY_SECURITY");
  await fill("draft.budget[1].amount_fen", 500000);
  await fill("draft.budget[1].rationale", "等保测评");
  await snap("application-form");
  await submitAndExpectOk("填写申报书");
  const submitHref = await page.getByRole("link", { name: "提交申报" }).getAttribute("href");
  const uploadHref = await page.getByRole("link", { name: "上传申报材料" }).getAttribute("href");
  const applicationId = new URLSearchParams(submitHref.split("?")[1]).get("application_id");
  await snap("application-saved");

  step("the district leader finds the draft in 待办; consent is not this project's to need, and intake says so (R-I6)");
  await signIn("LEADER");
  await page.waitForSelector("text=/尚未记录分管领导同意的申报（草稿）（\\d+）/");
  await page.getByRole("link", { name: "分管领导同意" }).first().click();
  await page.waitForSelector("#consent-comment");
  await page.fill("#consent-comment", "同意建设");
  await snap("leader-consent");
  await page.getByRole("button", { name: "同意" }).click();
  await page.waitForSelector(".refusal, .ok");
  const consent = await page.locator(".refusal").innerText().catch(() => "");
  if (!consent.includes("R-I6")) problems.push(`the leader's consent on a data-resource project is not refused with R-I6: ${consent}`);
  await snap("leader-consent-refused");
  await signIn("UNIT", "U-CIVIL");

  step("submitting before the dossier is uploaded: the service refuses, and the page shows R-I4");
  await go(submitHref);
  await page.getByRole("button", { name: "提交申报" }).click();
  await page.waitForSelector(".refusal");
  const refusal = await page.locator(".refusal").innerText();
  if (!refusal.includes("R-I4")) problems.push(`the refusal does not show R-I4: ${refusal}`);
  await snap("refused-r-i4");

  step("the unit uploads the dossier, with progress");
  for (const [kind, name, text] of [
    ["DOCUMENT_KIND_APPLICATION_FORM", "申报表.pdf", "电子政务项目申报表"],
    ["DOCUMENT_KIND_FEASIBILITY_REPORT", "可研报告.pdf", "项目可行性研究报告"],
  ]) {
    await go(uploadHref);
    await fill("kind", kind);
    await page.setInputFiles("#upload-file", { name, mimeType: "application/pdf", buffer: Buffer.from(text.repeat(20000)) });
    await submitAndExpectOk("上传申报材料");
    const progress = await page.locator("progress").evaluate((p) => p.value);
    if (progress !== 1) problems.push(`the upload's progress ends at ${progress}, not 1`);
  }
  await snap("uploaded");

  step("the unit submits into the open round");
  await go(submitHref);
  await submitAndExpectOk("提交申报");
  await snap("submitted");

  step("DRB finds it in 待办 and decides compliance on the checklist");
  await signIn("DRB");
  await page.waitForSelector("text=待合规性审查的申报（1）");
  await snap("todo-drb");
  await page.getByRole("link", { name: "合规性审查" }).first().click();
  await page.waitForSelector(".check-item");
  for (const radio of await page.locator('input[type=radio][value="pass"]').all()) await radio.check();
  await page.fill("#compliance-comment", "材料齐全，符合要求");
  await snap("compliance-checklist");
  await page.getByRole("button", { name: "提交审查结论" }).click();
  await page.waitForSelector(".ok, .refusal");
  if (await page.locator(".refusal").count()) throw new Error(`compliance refused: ${await page.locator(".refusal").innerText()}`);
  await snap("compliance-decided");

  // ---------------------------------------------------------------- review to approval
  const REVIEW = "egov.review.v1.Review", EXPERT = "egov.review.v1.ExpertReview";
  const PROC = "egov.procurement.v1.Procurement", ACC = "egov.acceptance.v1.Acceptance";
  const id = applicationId;
  const pdf = (name, text) => ({ name, mimeType: "application/pdf", buffer: Buffer.from(text.repeat(200)) });

  step("review opens the case from intake's event; each co-reviewer gives the preliminary opinion from 待办");
  await until("review's case", async () => (await read("review", REVIEW, "GetCase", { case_id: id })).status === 200);
  let opinions = 0;
  for (const role of ["DRC", "FINANCE", "CAC", "XINCHUANG", "GRASSROOTS"]) {
    await signIn(role);
    await page.waitForSelector("text=/审核任务（\\d+）/");
    if (!opinions) await snap(`todo-${role.toLowerCase()}`);
    const link = page.getByRole("link", { name: "提交初审意见" });
    if (!(await link.count())) continue;
    await link.first().click();
    await page.waitForSelector('[data-path="scores[0].score"]');
    const criteria = await page.locator('[data-path$="].score"]').count();
    for (let i = 0; i < criteria; i++) await fill(`scores[${i}].score`, 85);
    await fill("passed", true);
    await fill("opinion", "同意");
    if (!opinions) await snap("preliminary-opinion");
    await submitAndExpectOk("提交初审意见");
    opinions++;
  }
  if (opinions < 4) problems.push(`only ${opinions} preliminary opinions were reachable from 待办 (R-R1 asks DRC, FINANCE, CAC, XINCHUANG)`);

  step("DRB decides the preliminary review");
  await signIn("DRB");
  await form("review", REVIEW, "DecidePreliminary", { case_id: id });
  await fill("passed", true);
  await fill("comment", "通过初审");
  await snap("decide-preliminary");
  await submitAndExpectOk("初审结论");

  step("the expert review: DRB registers experts, the unit uploads its materials, DRB meets and draws the panel");
  for (const e of ["e2", "e3", "e4"]) {
    await form("review", EXPERT, "CreateExpert");
    await fill("expert_id", e);
    await fill("name", `专家${e}`);
    await addRow("specialties");
    await page.locator('[data-path="specialties"] .rows input').first().fill("IT");
    await fill("affiliation", `${e} 研究院`);
    if (e === "e2") await snap("create-expert");
    await submitAndExpectOk("登记专家");
  }
  const reviewMaterials = async (kinds) => {
    await signIn("UNIT", "U-CIVIL");
    for (const kind of kinds) {
      await form("review", EXPERT, "UploadMaterial", { case_id: id });
      await fill("kind", kind);
      await page.setInputFiles("#upload-file", pdf(`${kind.toLowerCase()}.pdf`, kind));
      await submitAndExpectOk("上传材料");
    }
  };
  await reviewMaterials(["MATERIAL_KIND_REVISED_FEASIBILITY_REPORT", "MATERIAL_KIND_REVISION_LIST", "MATERIAL_KIND_PRESENTATION"]);
  await snap("review-material");
  await signIn("DRB");
  await form("review", EXPERT, "CreateMeeting");
  await fill("held_on", civil(day));
  await addRow("specialties");
  await fill("specialties[0].specialty", "IT");
  await fill("specialties[0].count", 3);
  await snap("create-meeting");
  const meeting = (await submitAndExpectOk("创建评审会")).meeting_id;
  await form("review", EXPERT, "ScheduleCase", { meeting_id: meeting, case_id: id });
  await submitAndExpectOk("安排上会");
  await form("review", EXPERT, "DrawPanel", { meeting_id: meeting });
  await fill("seed", 7);
  const drawn = await submitAndExpectOk("抽取专家组");
  await snap("panel-drawn");
  const panel = (drawn.panel || []).map((e) => e.expert_id);
  if (panel.length !== 3) throw new Error(`the panel drawn: ${JSON.stringify(drawn.panel)}`);

  step("each expert of the panel scores the project, signed in as the expert");
  for (const e of panel) {
    await signIn("EXPERT", "", e);
    await page.getByRole("link", { name: "专家评分" }).click();
    await page.waitForSelector("#meeting-id");
    await page.fill("#meeting-id", meeting);
    await page.keyboard.press("Enter");
    const sheet = page.locator(`section[data-case="${id}"]`);
    await sheet.locator("textarea").waitFor();
    const dims = sheet.locator("input[type=number]");
    if ((await dims.count()) !== 5) problems.push(`the expert's score form has ${await dims.count()} dimensions, not 5`);
    for (const input of await dims.all()) await input.fill("80");
    await sheet.locator("textarea").fill("方案可行");
    if (e === panel[0]) await snap("expert-score");
    await submitAndExpectOk("提交专家评分");
  }
  await go(`#/expert/${meeting}`);
  await page.waitForSelector("text=您已提交评分");
  await snap("expert-scored");

  step("DRB concludes the expert review; the unit files the revised report and the revision list");
  await signIn("DRB");
  await form("review", EXPERT, "ConcludeExpertReview", { case_id: id });
  await fill("passed", true);
  await fill("recommended_budget_fen", 9800000);
  await fill("opinion", "建议压缩投资");
  await submitAndExpectOk("专家评审结论");
  await reviewMaterials(["MATERIAL_KIND_REVISED_FEASIBILITY_REPORT", "MATERIAL_KIND_REVISION_LIST"]);

  step("the re-check: DRB, DRC and FINANCE give their opinions from 待办; DRB concludes it");
  let rechecks = 0;
  for (const role of ["DRB", "DRC", "FINANCE"]) {
    await signIn(role);
    await page.waitForSelector("text=/审核任务（\\d+）/");
    const link = page.getByRole("link", { name: "提交复核意见" });
    if (!(await link.count())) continue;
    await link.first().click();
    await page.waitForSelector('[data-path="passed"]');
    await fill("passed", true);
    await fill("opinion", "同意");
    if (!rechecks) await snap("recheck-opinion");
    await submitAndExpectOk("提交复核意见");
    rechecks++;
  }
  if (rechecks < 3) problems.push(`only ${rechecks} re-check opinions were reachable from 待办 (R-R3 asks DRB, DRC, FINANCE)`);
  await signIn("DRB");
  await form("review", REVIEW, "ConcludeRecheck", { case_id: id });
  await fill("passed", true);
  await fill("comment", "复核通过，按优先级安排资金");
  await fill("priority_rank", 1);
  await fill("fiscal_year", day.getUTCFullYear() + 1);
  await fill("amount_fen", 9800000);
  await submitAndExpectOk("复核结论");

  step("the joint meeting, then DRB issues the approval document");
  await form("review", REVIEW, "RecordJointMeeting", { case_id: id });
  await fill("passed", true);
  await fill("meeting_ref", "区电子政务项目联席会议");
  await fill("held_on", civil(day));
  await submitAndExpectOk("记录联席会议");
  await form("review", REVIEW, "IssueApproval", { case_id: id });
  await fill("document_number", "上数〔2027〕3号");
  await fill("issued_on", civil(day));
  await fill("budget_fen", 9800000);
  await fill("scope", "救助审核模块");
  await fill("planned_construction_months", 12);
  await snap("issue-approval");
  const approved = await submitAndExpectOk("印发批复");
  if (!/APPROVED/.test(approved.stage)) problems.push(`after the approval the case is at ${approved.stage}`);

  // ---------------------------------------------------------------- contract to acceptance
  step("procurement opens from review's event; the unit records the procurement and files the contract");
  await until("procurement's case", async () => (await read("procurement", PROC, "GetCase", { project_id: id })).status === 200);
  await signIn("UNIT", "U-CIVIL");
  await form("procurement", PROC, "RecordProcurement", { project_id: id });
  await fill("record.channel", "SMALL_PUBLIC_RESOURCE_TRADING");
  await fill("record.method", "竞争性磋商");
  await fill("record.supplier_name", "杭州某信息技术有限公司");
  await fill("record.supplier_credit_code", "91350100M000100Y43");
  await fill("record.amount_fen", 9600000);
  await fill("record.implementing_body", "区民政局信息中心");
  await fill("record.responsible_person", "张三");
  await fill("record.completed_on", civil(day));
  await snap("record-procurement");
  const procured = await submitAndExpectOk("登记采购结果");
  const start = addDays(day, 1), end = addDays(day, 60);
  await form("procurement", PROC, "FileContract", { project_id: id });
  await fill("terms.project_name", procured.project_name);
  await fill("terms.construction_start", civil(start));
  await fill("terms.construction_end", civil(end));
  await fill("terms.amount_fen", 9600000);
  await fill("terms.ip_owned_by_unit_or_joint", true);
  await fill("terms.data_owned_by_unit", true);
  await fill("terms.security_agreement", "SIGNED_STATEMENT_SIGNED");
  await fill("terms.security_responsibility_letter", "SIGNED_STATEMENT_SIGNED");
  await fill("terms.maintenance_scope", "系统运行维护");
  await fill("terms.maintenance_start", civil(addDays(end, 1)));
  await fill("terms.maintenance_end", civil(new Date(Date.UTC(end.getUTCFullYear() + 2, end.getUTCMonth(), end.getUTCDate()))));
  await fill("terms.maintenance_duty", "7×24小时响应");
  await fill("terms.security_duties_and_penalties", true);
  await fill("terms.overrun_penalty_clause", true);
  await fill("contract_signed_on", civil(day));
  await fill("filed_on", civil(day));
  await fill("security.classified_protection_level", 3);
  await snap("file-contract");
  const filed = await submitAndExpectOk("合同备案");
  if (!/CONSTRUCTION/.test(filed.state)) problems.push(`after the contract the case is ${filed.state}`);

  step("the payment plan, the first stage's condition and its payment, a monthly progress report");
  await form("procurement", PROC, "SetPaymentPlan", { project_id: id });
  for (const [i, [stage, condition, bp]] of [["sign", "合同签订", 3000], ["initial", "初验通过", 4000], ["final", "终验通过", 3000]].entries()) {
    await addRow("stages");
    await fill(`stages[${i}].stage_id`, stage);
    await fill(`stages[${i}].condition`, condition);
    await fill(`stages[${i}].ratio_bp`, bp);
  }
  await snap("payment-plan");
  await submitAndExpectOk("设定付款计划");
  await go("#/todo");
  await page.getByRole("link", { name: "合同与付款" }).first().click();
  await page.waitForSelector("section[aria-label='付款阶段']");
  await page.fill("#evidence-0", "合同已签订");
  await snap("payments");
  await page.getByRole("button", { name: "确认付款条件达成：sign" }).click();
  await page.waitForSelector("#amount-0", { timeout: 20000 });
  await page.fill("#amount-0", "2880000");
  await page.getByRole("button", { name: "付款备案：sign" }).click();
  await page.waitForSelector("section[aria-label='付款备案记录']", { timeout: 20000 });
  if (await page.locator(".refusal").count()) throw new Error(`payment refused: ${await page.locator(".refusal").innerText()}`);
  await snap("payment-filed");
  await form("procurement", PROC, "ReportProgress", { project_id: id });
  await fill("month.year", day.getUTCFullYear());
  await fill("month.month", day.getUTCMonth() + 1);
  await fill("percent_complete", 40);
  await fill("summary", "完成需求调研与原型设计");
  await snap("report-progress");
  await submitAndExpectOk("报送进度月报");

  step("ten days into construction, the unit declares it completed; acceptance opens its case");
  await advanceDays(11);
  await signIn("UNIT", "U-CIVIL");
  await form("procurement", PROC, "DeclareConstructionComplete", { project_id: id });
  await fill("completed_on", civil(day));
  await fill("summary", "建设内容全部完成");
  await submitAndExpectOk("建设完成");
  await until("acceptance's case", async () => (await read("acceptance", ACC, "GetCase", { project_id: id })).status === 200);

  step("the unit files the initial acceptance's materials and records it passed (R-A1)");
  const acceptanceMaterials = async (kinds) => {
    for (const kind of kinds) {
      await form("acceptance", ACC, "UploadMaterial", { project_id: id });
      await fill("kind", kind);
      await fill("produced_on", civil(day));
      await fill("project_name", procured.project_name);
      await page.setInputFiles("#upload-file", pdf(`${kind.toLowerCase()}.pdf`, kind));
      await submitAndExpectOk("上传材料");
    }
  };
  await acceptanceMaterials(["MATERIAL_KIND_INITIAL_PANEL_OPINIONS", "MATERIAL_KIND_INITIAL_MINUTES", "MATERIAL_KIND_INITIAL_TEST_REPORT"]);
  await snap("acceptance-material");
  const panelRows = async (field, names, opinion) => {
    const specialties = ["SPECIALTY_INFORMATION_TECHNOLOGY", "SPECIALTY_CYBERSECURITY", "SPECIALTY_BUSINESS_DOMAIN"];
    for (const [i, n] of names.entries()) {
      await addRow(field);
      await fill(`${field}[${i}].name`, n);
      await addRow(`${field}[${i}].specialties`);
      await page.locator(`[data-path="${field}[${i}].specialties"] .rows select`).first().selectOption(specialties[i]);
      await fill(`${field}[${i}].affiliation`, "浙江工业大学");
      await fill(`${field}[${i}].affiliation_credit_code`, "12330000470003266X");
      await fill(`${field}[${i}].opinion`, opinion);
      await fill(`${field}[${i}].passes`, true);
    }
  };
  await go("#/todo");
  await page.getByRole("link", { name: "验收办理" }).first().click();
  await page.waitForSelector("section[aria-label='验收材料'] table");
  await snap("acceptance-page");
  await page.getByRole("link", { name: "初步验收" }).click();
  await page.waitForSelector("form[aria-label] button[type=submit]");
  const held = day;
  await fill("held_on", civil(held));
  await panelRows("panel", ["王工", "李工", "赵处"], "功能完整，同意通过");
  await fill("conclusion", "同意通过初验，进入试运行");
  await snap("initial-acceptance");
  await submitAndExpectOk("初步验收");
  await acceptanceMaterials(["MATERIAL_KIND_FUNCTION_PERFORMANCE_TEST_REPORT", "MATERIAL_KIND_CLASSIFIED_PROTECTION_ASSESSMENT",
    "MATERIAL_KIND_XINCHUANG_ASSESSMENT", "MATERIAL_KIND_CONSTRUCTION_SUMMARY"]);

  step("thirty days of trial operation; DRB deposits the trial report by hand (R-A2)");
  await advanceDays(30);
  await signIn("DRB");
  await form("acceptance", ACC, "DepositTrialReport", { project_id: id });
  await fill("produced_on", civil(addDays(held, 29)));
  await fill("period_from", civil(held));
  await fill("period_to", civil(addDays(held, 29)));
  await fill("external_reference", "ZJ-SZZY-0001");
  await fill("project_name", procured.project_name);
  await page.setInputFiles("#upload-file", pdf("试运行报告.pdf", "试运行报告"));
  await snap("trial-report");
  await submitAndExpectOk("试运行报告");

  step("the unit applies for acceptance (R-A3); DRB approves the application");
  await signIn("UNIT", "U-CIVIL");
  await form("acceptance", ACC, "ApplyForAcceptance", { project_id: id });
  await addRow("built_modules");
  await page.locator('[data-path="built_modules"] .rows input').first().fill("救助审核");
  await fill("goals_met", true);
  await fill("function_performance_met", true);
  await fill("statement", "全部建设内容已完成");
  await snap("apply-for-acceptance");
  await submitAndExpectOk("申请验收");
  await signIn("DRB");
  await form("acceptance", ACC, "ReviewApplication", { project_id: id });
  await fill("approve", true);
  await snap("review-acceptance-application");
  await submitAndExpectOk("验收申请审查");

  step("the unit records the experts' acceptance, passed (R-A4)");
  await signIn("UNIT", "U-CIVIL");
  await form("acceptance", ACC, "RecordAcceptance", { project_id: id });
  await fill("held_on", civil(day));
  await panelRows("experts", ["钱工", "孙工", "周处"], "验收通过");
  await fill("conclusion", "验收通过");
  await fill("costs_fen", 500000);
  await fill("drb_joined", true);
  await snap("record-acceptance");
  const accepted = await submitAndExpectOk("记录验收结论");
  if (!/ACCEPTED$/.test(accepted.state)) problems.push(`after the acceptance the case is ${accepted.state}`);
  await signIn("DRB");

  step("the project page: the cross-service timeline, documents with their hashes");
  await go(`#/projects/${applicationId}`);
  await page.waitForSelector("text=进度记录（各服务）");
  await page.waitForFunction(() => document.querySelectorAll("section[aria-label='进度记录'] tbody tr").length >= 2, null, { timeout: 20000 });
  await page.waitForSelector("text=SM3 摘要");
  await page.waitForSelector("section[aria-label='验收'] dl");
  await page.waitForSelector("section[aria-label='验收材料（含摘要）'] table");
  await snap("project");

  step("a document is downloaded from the project page, streamed from intake, its SHA-256 checked against the service's record");
  const [download] = await Promise.all([
    page.waitForEvent("download", { timeout: 20000 }),
    page.getByRole("button", { name: "下载 申报表.pdf" }).click(),
  ]);
  const { readFileSync } = await import("node:fs");
  const got = readFileSync(await download.path());
  if (!got.equals(Buffer.from("电子政务项目申报表".repeat(20000)))) problems.push(`the downloaded 申报表.pdf is not the uploaded file (${got.length} bytes)`);
  if (download.suggestedFilename() !== "申报表.pdf") problems.push(`the download is named ${download.suggestedFilename()}`);
  await page.waitForSelector("text=SHA-256 与服务记录一致");
  const [material] = await Promise.all([
    page.waitForEvent("download", { timeout: 20000 }),
    page.locator("section[aria-label='验收材料（含摘要）'] button").first().click(),
  ]);
  if (!readFileSync(await material.path()).toString().startsWith("MATERIAL_KIND_")) problems.push("the acceptance material downloaded is not the one uploaded");
  await snap("project-downloaded");
  step("AUDIT verifies every service's audit trail and pages through the records");
  await signIn("AUDIT");
  await page.getByRole("link", { name: "审计" }).click();
  await page.waitForSelector("section[aria-label='审计链校验']");
  await until("the five services' verifications", async () => (await page.locator("section[aria-label='审计链校验'] tbody td strong").count()) === 5);
  const verdicts = await page.locator("section[aria-label='审计链校验'] tbody td strong").allInnerTexts();
  if (verdicts.some((v) => v !== "完整")) problems.push(`the audit trails verify as ${verdicts.join(", ")}`);
  await page.waitForSelector("section[aria-label='审计记录'] table");
  await snap("audit");
  if (await page.locator("text=null").count()) problems.push("the audit page shows a stray null");
  // Review keeps more records than a page of 20 by now.
  await page.selectOption("#audit-backend", "review");
  await page.waitForSelector("section[aria-label='审计记录'] >> text=第 1 页");
  const firstSeq = await page.locator("section[aria-label='审计记录'] tbody tr td").first().innerText();
  await page.locator("section[aria-label='审计记录']").getByRole("button", { name: "下一页" }).click();
  await page.waitForSelector("section[aria-label='审计记录'] >> text=第 2 页");
  await page.waitForSelector("section[aria-label='审计记录'] table");
  const secondSeq = await page.locator("section[aria-label='审计记录'] tbody tr td").first().innerText();
  if (secondSeq === firstSeq) problems.push(`the second page of audit records starts where the first did (${firstSeq})`);
  await page.locator("section[aria-label='审计记录']").getByRole("button", { name: "上一页" }).click();
  await page.waitForSelector("section[aria-label='审计记录'] >> text=第 1 页");
  await page.selectOption("#audit-backend", "acceptance");
  await page.waitForSelector("section[aria-label='审计记录'] table");
  await snap("audit-acceptance");
  await signIn("DRB");

  await go("#/overview");
  await page.waitForSelector(".tiles");
  await snap("overview");

  step("at phone width (390 px) the pages fit the screen");
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [hash, name] of [["#/todo", "phone-todo"], [`#/projects/${applicationId}`, "phone-project"], ["#/actions", "phone-actions"],
    [`#/do/procurement/egov.procurement.v1.Procurement/FileContract?project_id=${applicationId}`, "phone-file-contract"],
    [`#/do/acceptance/egov.acceptance.v1.Acceptance/RecordAcceptance?project_id=${applicationId}`, "phone-record-acceptance"],
    [`#/payments/${applicationId}`, "phone-payments"], [`#/acceptance/${applicationId}`, "phone-acceptance"], ["#/audit", "phone-audit"]]) {
    await go(hash);
    await page.waitForTimeout(300);
    await snap(name);
  }
  await signIn("UNIT", "U-CIVIL");
  await go("#/apply");
  await page.waitForSelector('[data-path="draft.name"]');
  await snap("phone-application-form");
} catch (e) {
  problems.push(`the walk stopped: ${e.stack || e}`);
  await page.screenshot({ path: join(out, "failed.png"), fullPage: true }).catch(() => {});
} finally {
  await browser.close();
}

if (problems.length) {
  console.error(problems.map((p) => `PROBLEM: ${p}`).join("\n"));
  process.exit(1);
}
console.log(`walk: done, ${shot} screenshots in ${out}`);

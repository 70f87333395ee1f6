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

async function signIn(role, unit = "") {
  await page.evaluate(() => fetch("/auth/signout", { method: "POST" }));
  await go("#/signin");
  await page.waitForSelector("#role");
  await page.selectOption("#role", role);
  await page.fill("#unit", unit);
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

async function addRow(path) {
  await page.locator(`[data-path="${path}"] > fieldset > button`).last().click();
}

async function submitAndExpectOk(buttonText) {
  await page.evaluate(() => document.querySelectorAll(".ok, .refusal").forEach((el) => el.remove()));
  await page.getByRole("button", { name: buttonText }).click();
  const outcome = await Promise.race([
    page.waitForSelector(".ok", { timeout: 20000 }).then(() => "ok"),
    page.waitForSelector(".refusal", { timeout: 20000 }).then(() => "refused"),
  ]);
  if (outcome !== "ok") throw new Error(`${buttonText}: refused: ${await page.locator(".refusal").innerText()}`);
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
  await submitAndExpectOk("拨动时钟");
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

  step("the project page: the cross-service timeline, documents with their hashes");
  await go(`#/projects/${applicationId}`);
  await page.waitForSelector("text=进度记录（各服务）");
  await page.waitForFunction(() => document.querySelectorAll("section[aria-label='进度记录'] tbody tr").length >= 2, null, { timeout: 20000 });
  await page.waitForSelector("text=SM3 摘要");
  await snap("project");
  await go("#/overview");
  await page.waitForSelector(".tiles");
  await snap("overview");

  step("at phone width (390 px) the pages fit the screen");
  await page.setViewportSize({ width: 390, height: 844 });
  for (const [hash, name] of [["#/todo", "phone-todo"], [`#/projects/${applicationId}`, "phone-project"], ["#/actions", "phone-actions"]]) {
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

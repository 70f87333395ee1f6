// 上城区政务项目管理系统：控制台页面。
// Every action is one call of a service's own gRPC method through the console's bridge
// (/api/{backend}/{service}/{method}); forms are drawn from the descriptor set (/api/_schema).
// No rule of the Measures is decided here: a refusal shows the service's rule ids and words.
"use strict";

const L = window.EGOV_LABELS;
const S = { schema: null, me: null };
const $ = (sel, el = document) => el.querySelector(sel);
const INTAKE = "egov.intake.v1.Intake", REVIEW = "egov.review.v1.Review", EXPERT = "egov.review.v1.ExpertReview";
const PROCUREMENT = "egov.procurement.v1.Procurement", ACCEPTANCE = "egov.acceptance.v1.Acceptance";
const EVALUATIONS = "egov.evaluation.v1.Evaluations", AUDIT = "egov.common.v1.AuditTrail";

// ------------------------------------------------------------------ small helpers

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "text") el.textContent = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}
const label = (name) => L.fields[name] || name;
// The Chinese term of a proto comment ("电子政务项目申报表 (R-I4)" → 电子政务项目申报表), if it has one.
function chinese(comment) {
  const m = String(comment || "").match(/[\u4e00-\u9fff][\u4e00-\u9fff\u3001\u300a\u300b\u201c\u201d\uff08\uff09\u00b7]*/);
  return m ? m[0] : "";
}
const ENUM_LABELS = {};
function indexComments() {
  const c = S.schema.comments || {};
  for (const [full, values] of Object.entries(S.schema.enums)) {
    for (const v of values) {
      const zh = chinese(c[`${full}.${v.name}`]);
      if (zh) ENUM_LABELS[v.name] = zh;
    }
  }
}
function fieldLabel(message, f) {
  return L.fields[f.name] || chinese((S.schema.comments || {})[`${message}.${f.name}`]) || f.name;
}
const enumLabel = (value) => ENUM_LABELS[value] || stateName(value);
const methodTitle = (m) => L.methods[m] || m;
const roleName = (r) => L.roles[r] || r;
// The state suffixes, longest first (sorted once, not on every cell drawn).
const STATE_KEYS = Object.keys(L.states).sort((a, b) => b.length - a.length);
function stateName(v) {
  if (typeof v !== "string") return String(v);
  const m = STATE_KEYS.find((k) => v === k || v.endsWith("_" + k));
  return m ? L.states[m] : v;
}
function yuan(fen) {
  const n = Number(fen || 0) / 100;
  return n.toLocaleString("zh-CN", { minimumFractionDigits: 2, maximumFractionDigits: 2 }) + " 元";
}
function today() {
  const d = new Date(Date.now() + 8 * 3600 * 1000);
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}
const civil = (c) => (c && c.year ? `${c.year}-${String(c.month).padStart(2, "0")}-${String(c.day).padStart(2, "0")}` : "");
function when(ts) {
  if (!ts) return "";
  const d = new Date(ts);
  if (isNaN(d)) return String(ts);
  return d.toLocaleString("zh-CN", { timeZone: "Asia/Shanghai", hour12: false });
}
function newId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, "0")).join("");
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// ------------------------------------------------------------------ calls

class Refusal extends Error {
  constructor(body, http) {
    super(body.message || `HTTP ${http}`);
    this.body = body; this.http = http;
  }
}

async function api(backend, service, method, body = {}) {
  const r = await fetch(`/api/${backend}/${service}/${method}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-egov-console": "1" },
    body: JSON.stringify(body),
    credentials: "same-origin",
  });
  const json = await r.json().catch(() => ({ code: "UNAVAILABLE", message: `控制台没有答复（HTTP ${r.status}）` }));
  if (!r.ok) {
    if (r.status === 401) S.me = { signed_in: false };
    throw new Refusal(json, r.status);
  }
  return json;
}

function uploadFile(backend, service, method, meta, file, onProgress) {
  return new Promise((resolve, reject) => {
    const x = new XMLHttpRequest();
    x.open("POST", `/api/${backend}/${service}/${method}/upload`);
    x.setRequestHeader("x-egov-console", "1");
    x.setRequestHeader("x-egov-upload", encodeURIComponent(JSON.stringify(meta)));
    x.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    x.onload = () => {
      let body;
      try { body = JSON.parse(x.responseText); } catch { body = { code: "UNAVAILABLE", message: x.responseText }; }
      x.status >= 200 && x.status < 300 ? resolve(body) : reject(new Refusal(body, x.status));
    };
    x.onerror = () => reject(new Refusal({ code: "UNAVAILABLE", message: "网络中断，上传未完成" }, 0));
    x.send(file);
  });
}

// A document streamed from the service's download method through the bridge, saved by the
// browser; its SHA-256 is computed here and set beside the one the service recorded.
async function downloadDocument(backend, service, method, documentId, status) {
  status.replaceChildren(h("span", { class: "hint" }, "正在下载…"));
  try {
    const r = await fetch(`/api/${backend}/${service}/${method}/download`, {
      method: "POST", credentials: "same-origin",
      headers: { "content-type": "application/json", "x-egov-console": "1" },
      body: JSON.stringify({ document_id: documentId }),
    });
    if (!r.ok) throw new Refusal(await r.json().catch(() => ({ code: "UNAVAILABLE", message: `HTTP ${r.status}` })), r.status);
    const meta = JSON.parse(decodeURIComponent(r.headers.get("x-egov-document") || "%7B%7D"));
    const blob = await r.blob();
    let check = "";
    if (crypto.subtle && meta.sha256) {
      const hex = [...new Uint8Array(await crypto.subtle.digest("SHA-256", await blob.arrayBuffer()))].map((b) => b.toString(16).padStart(2, "0")).join("");
      check = hex === meta.sha256 ? "，SHA-256 与服务记录一致" : `，SHA-256 与服务记录不一致（${hex}）`;
    }
    const a = h("a", { href: URL.createObjectURL(blob), download: meta.file_name || documentId });
    document.body.append(a); a.click(); a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 60000);
    status.replaceChildren(h("span", { role: "status", class: "downloaded" }, `已下载 ${meta.file_name || ""}（${blob.size} 字节${check}）`));
  } catch (e) {
    status.replaceChildren(refusalBox(e instanceof Refusal ? e : { body: { code: "UNAVAILABLE", message: `下载未完成：${e.message || e}` } }));
  }
}

// Documents with their hashes, each with a download button (the service's download method).
function documentsTable(docs, download) {
  if (!docs.length) return h("p", { class: "hint" }, "（无）");
  return h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, ["文件名", "类别", "大小（字节）", "SHA-256 摘要", "SM3 摘要", "下载"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, docs.map((d) => {
      const status = h("div", { "aria-live": "polite" });
      const btn = h("button", { type: "button", class: "secondary", "aria-label": `下载 ${d.file_name}`,
        onclick: () => downloadDocument(...download, d.document_id, status) }, "下载");
      return h("tr", {}, h("td", {}, d.file_name), h("td", {}, show(d.kind, "kind")), h("td", {}, String(d.size_bytes ?? "")),
        h("td", { class: "hash" }, d.sha256 || "—"), h("td", { class: "hash" }, d.sm3 || "—"), h("td", {}, btn, status));
    }))));
}

/// Runs `act` when `form` is submitted; a refusal is shown in `result`.
function onSubmit(form, result, act) {
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    try { await act(); } catch (e) { result.replaceChildren(refusalBox(e)); }
  });
}

function refusalBox(e) {
  const b = e.body || { code: "UNKNOWN", message: String(e) };
  const box = h("div", { class: "refusal", role: "alert" },
    h("strong", {}, "未办理成功："), `${b.message || ""}`,
    h("div", { class: "hint" }, `（${b.code || ""}）`));
  if (b.violations && b.violations.length) {
    box.append(h("ul", {}, b.violations.map((v) => h("li", {}, h("span", { class: "rule" }, v.rule), v.description || ""))));
  }
  if (b.fields && b.fields.length) {
    box.append(h("ul", {}, b.fields.map((f) => h("li", {}, h("strong", {}, label(lastPart(f.field)) + `（${f.field}）：`), f.description || ""))));
  }
  return box;
}
const lastPart = (path) => String(path).split(/[.[\]]/).filter(Boolean).filter((p) => isNaN(p)).pop() || path;

// ------------------------------------------------------------------ generic forms from the descriptor set

const SPECIAL = {
  "egov.common.v1.CivilDate": {
    input: (id, v) => h("input", { type: "date", id, value: civil(v) }),
    read: (el) => { const v = el.value; if (!v) return undefined; const [y, m, d] = v.split("-").map(Number); return { year: y, month: m, day: d }; },
  },
  "google.protobuf.Timestamp": {
    input: (id, v) => h("input", { type: "datetime-local", id, value: v ? new Date(new Date(v).getTime() + 8 * 3600e3).toISOString().slice(0, 16) : "" }),
    read: (el) => (el.value ? el.value + ":00+08:00" : undefined),
  },
};
const LONG_TEXT = /(reason|comment|description|opinion|conclusion|summary|text|statement|necessity|rationale|explanation|note|scope|terms|justification)$/;
let fieldSeq = 0;

function formFor(messageName, prefill = {}, path = "") {
  const msg = S.schema.messages[messageName];
  const wrap = h("div", { class: "form-fields" });
  wrap.dataset.message = messageName;
  for (const f of msg.fields) wrap.append(fieldInput({ ...f, label: fieldLabel(messageName, f) }, prefill[f.name] ?? prefill[f.json_name], path ? `${path}.${f.name}` : f.name));
  return wrap;
}

function fieldInput(f, value, path) {
  const id = `f${++fieldSeq}`;
  const box = h("div", { class: "field" });
  box.dataset.field = f.name; box.dataset.path = path;
  if (f.map) {
    box.dataset.kind = "skip";
    return box;
  }
  if (f.repeated) {
    box.dataset.kind = "repeated";
    const list = h("div", { class: "rows" });
    const add = (v) => {
      const row = h("div", { class: "row" });
      const inner = f.kind === "message" && !SPECIAL[f.type]
        ? h("fieldset", {}, h("legend", {}, `${f.label} 第 ${list.children.length + 1} 项`), formFor(f.type, v || {}, `${path}[${list.children.length}]`))
        : scalarInput({ ...f, repeated: false }, v, `${id}-${list.children.length}`, `${f.label} 第 ${list.children.length + 1} 项`);
      row.append(inner, h("button", { type: "button", class: "secondary", onclick: () => row.remove() }, `删除此项`));
      list.append(row);
    };
    (Array.isArray(value) ? value : []).forEach(add);
    box.append(h("fieldset", {}, h("legend", {}, f.label), list,
      h("button", { type: "button", class: "secondary", onclick: () => add(undefined) }, `添加${f.label}`)));
    return box;
  }
  if (f.kind === "message" && !SPECIAL[f.type]) {
    box.dataset.kind = "message";
    box.append(h("fieldset", {}, h("legend", {}, f.label), formFor(f.type, value || {}, path)));
    return box;
  }
  box.dataset.kind = "scalar";
  box.append(scalarInput(f, value, id, f.label));
  return box;
}

function scalarInput(f, value, id, text) {
  let input;
  if (SPECIAL[f.type]) input = SPECIAL[f.type].input(id, value);
  else if (f.kind === "bool") {
    input = h("input", { type: "checkbox", id, checked: value === true });
    const c = h("div", { class: "check" }, input, h("label", { for: id }, text));
    c.dataset.input = "1";
    return c;
  } else if (f.kind === "enum") {
    const values = S.schema.enums[f.type] || [];
    input = h("select", { id }, values.map((v) => h("option", { value: v.name, selected: value === v.name }, v.name.endsWith("_UNSPECIFIED") ? "（未选择）" : enumLabel(v.name))));
  } else if (f.kind === "bytes") input = h("input", { type: "file", id });
  else if (f.kind === "int32" || f.kind === "int64" || f.kind === "number") {
    input = h("input", { type: "number", id, step: f.kind === "number" ? "any" : "1", value: value ?? "" });
    if (f.name.endsWith("_fen")) input.setAttribute("aria-describedby", id + "-hint");
  } else if (LONG_TEXT.test(f.name)) input = h("textarea", { id }, value ?? "");
  else input = h("input", { type: "text", id, value: value ?? "", autocomplete: "off" });
  input.dataset.kind = f.kind; input.dataset.type = f.type || "";
  const extra = f.name.endsWith("_fen") ? h("div", { class: "hint", id: id + "-hint" }, "以“分”为单位：1 元 = 100 分") : null;
  return h("div", {}, h("label", { for: id }, text), input, extra);
}

async function readScalar(input) {
  const kind = input.dataset.kind, type = input.dataset.type;
  if (SPECIAL[type]) return SPECIAL[type].read(input);
  if (input.type === "checkbox") return input.checked || undefined;
  if (kind === "bytes") {
    const file = input.files && input.files[0];
    if (!file) return undefined;
    const buf = new Uint8Array(await file.arrayBuffer());
    let s = ""; for (const b of buf) s += String.fromCharCode(b);
    return btoa(s);
  }
  const v = input.value;
  if (v === "") return undefined;
  if (kind === "int32" || kind === "number") return Number(v);
  if (kind === "int64") return v;
  if (kind === "enum" && v.endsWith("_UNSPECIFIED")) return undefined;
  return v;
}

async function readForm(wrap) {
  const out = {};
  for (const box of wrap.children) {
    const name = box.dataset.field, kind = box.dataset.kind;
    if (!name || kind === "skip") continue;
    if (kind === "scalar") {
      const v = await readScalar($("input,select,textarea", box));
      if (v !== undefined) out[name] = v;
    } else if (kind === "message") {
      const v = await readForm($(".form-fields", box));
      if (Object.keys(v).length) out[name] = v;
    } else if (kind === "repeated") {
      const vals = [];
      for (const row of $(".rows", box).children) {
        const nested = $(".form-fields", row);
        const v = nested ? await readForm(nested) : await readScalar($("input,select,textarea", row));
        if (v !== undefined && !(typeof v === "object" && !Object.keys(v).length)) vals.push(v);
      }
      if (vals.length) out[name] = vals;
    }
  }
  return out;
}

function markInvalid(wrap, refusal) {
  wrap.querySelectorAll("[aria-invalid]").forEach((el) => el.removeAttribute("aria-invalid"));
  for (const f of (refusal.body && refusal.body.fields) || []) {
    const path = String(f.field).replace(/\[\d+\]/g, (m) => m);
    const box = [...wrap.querySelectorAll(".field")].find((b) => b.dataset.path === path || b.dataset.field === lastPart(path));
    const input = box && $("input,select,textarea", box);
    if (input) input.setAttribute("aria-invalid", "true");
  }
}

// ------------------------------------------------------------------ showing answers

function show(value, key) {
  if (value === null || value === undefined || value === "") return h("span", { class: "hint" }, "—");
  if (Array.isArray(value)) {
    if (!value.length) return h("span", { class: "hint" }, "（无）");
    if (value.every((v) => typeof v !== "object")) return h("span", {}, value.map((v) => (key === "rule_ids" ? h("span", { class: "badge" }, v) : stateName(v))).reduce((a, b) => [a, "、", b]));
    return table(value);
  }
  if (typeof value === "object") {
    if ("year" in value && "month" in value && "day" in value && Object.keys(value).length === 3) return h("span", {}, civil(value));
    return kv(value);
  }
  if (typeof value === "boolean") return h("span", { class: key === "overdue" && value ? "overdue" : "" }, value ? "是" : "否");
  if (key && key.endsWith("_fen")) return h("span", {}, yuan(value));
  if (key && (key.endsWith("_at") || key === "occurred_at")) return h("span", {}, when(value));
  if (typeof value === "string" && /^[A-Z][A-Z0-9_]+$/.test(value)) return h("span", { title: value }, enumLabel(value));
  return h("span", {}, String(value));
}
// A field's name over a shown value: money is shown in 元, so its "（分）" is dropped there.
const shownLabel = (k) => (String(k).endsWith("_fen") ? label(k).replace("（分）", "") : label(k));
function kv(obj) {
  const dl = h("dl", { class: "kv" });
  for (const [k, v] of Object.entries(obj)) {
    if (v === "" || v === null || (Array.isArray(v) && !v.length) || k === "chunk") continue;
    dl.append(h("dt", {}, shownLabel(k)), h("dd", {}, show(v, k)));
  }
  return dl;
}
function table(rows) {
  const keys = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((k) => rows.some((r) => r[k] !== "" && r[k] !== null && !(Array.isArray(r[k]) && !r[k].length) && typeof r[k] !== "object")).slice(0, 8);
  return h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, keys.map((k) => h("th", { scope: "col" }, shownLabel(k))))),
    h("tbody", {}, rows.map((r) => h("tr", {}, keys.map((k) => h("td", {}, show(r[k], k))))))));
}

// A list a page at a time: `fetchPage(token)` returns {rows, next} from the service's own
// page_token / next_page_token; 上一页 / 下一页 walk the tokens the service gave.
function pager(fetchPage, render, onPage) {
  const box = h("div", { class: "paged" });
  const tokens = [""];
  let at = 0;
  async function load() {
    box.replaceChildren(h("p", { class: "hint" }, "正在加载…"));
    try {
      const { rows, next } = await fetchPage(tokens[at]);
      tokens[at + 1] = next || "";
      const nav = (at > 0 || next) ? h("div", { class: "row-actions pager" },
        at > 0 ? h("button", { type: "button", class: "secondary", onclick: () => { at--; load(); } }, "上一页") : null,
        h("span", { class: "hint", "aria-live": "polite" }, `第 ${at + 1} 页`),
        next ? h("button", { type: "button", class: "secondary", onclick: () => { at++; load(); } }, "下一页") : null) : null;
      box.replaceChildren(...[render(rows), nav].filter(Boolean));
      if (onPage) onPage(rows, next, at);
    } catch (e) { box.replaceChildren(refusalBox(e)); }
  }
  box.ready = load();
  return box;
}

// ------------------------------------------------------------------ pages

const ROUTES = [
  [/^#\/signin$/, signinPage],
  [/^#\/todo$/, todoPage],
  [/^#\/apply$/, applyPage],
  [/^#\/projects$/, projectsPage],
  [/^#\/projects\/([^/]+)$/, projectPage],
  [/^#\/compliance\/([^/]+)$/, compliancePage],
  [/^#\/do\/([a-z]+)\/([A-Za-z0-9_.]+)\/([A-Za-z]+)(?:\?(.*))?$/, actionPage],
  [/^#\/actions$/, actionsPage],
  [/^#\/audit(?:\?.*)?$/, auditPage],
  [/^#\/consent\/([^/]+)$/, consentPage],
  [/^#\/expert$/, expertPage],
  [/^#\/expert\/([^/]+)$/, expertPage],
  [/^#\/payments\/([^/]+)$/, paymentsPage],
  [/^#\/acceptance\/([^/]+)$/, acceptancePage],
  [/^#\/overview$/, overviewPage],
];
const NAV = [
  ["#/todo", "待办"], ["#/apply", "项目申报", ["UNIT"]], ["#/expert", "专家评分", ["EXPERT"]], ["#/projects", "项目"], ["#/audit", "审计", ["AUDIT", "DRB"]], ["#/actions", "业务办理"],
  ["#/overview", "驾驶舱"],
];

async function route() {
  if (!S.me) S.me = await fetch("/auth/me", { credentials: "same-origin" }).then((r) => r.json()).catch(() => ({ signed_in: false }));
  if (!S.schema) {
    S.schema = await fetch("/api/_schema").then((r) => r.json());
    indexComments();
  }
  let hash = location.hash || "#/todo";
  if (!S.me.signed_in && hash !== "#/signin") { location.hash = "#/signin"; return; }
  drawChrome(hash);
  const main = $("#main");
  main.replaceChildren(h("p", {}, "正在加载…"));
  for (const [re, page] of ROUTES) {
    const m = hash.match(re);
    if (m) {
      try { await page(main, ...m.slice(1).map((x) => (x === undefined ? x : decodeURIComponent(x)))); }
      catch (e) { main.replaceChildren(h("h2", {}, "出错了"), refusalBox(e)); }
      main.focus();
      return;
    }
  }
  location.hash = "#/todo";
}

function drawChrome(hash) {
  const nav = $("#nav");
  nav.replaceChildren(...(S.me.signed_in ? NAV.filter(([, , roles]) => !roles || roles.includes(S.me.role)) : [])
    .map(([href, text]) => h("a", { href, "aria-current": hash.startsWith(href) ? "page" : null }, text)));
  const who = $("#who");
  if (S.me.signed_in) {
    who.replaceChildren(`${roleName(S.me.role)}${S.me.unit ? "（" + S.me.unit + "）" : ""} ${S.me.subject}`,
      h("button", { type: "button", class: "secondary", onclick: signOut }, "退出"));
  } else who.replaceChildren("未登录");
}

async function signOut() {
  await fetch("/auth/signout", { method: "POST", credentials: "same-origin" });
  S.me = { signed_in: false };
  location.hash = "#/signin";
}

async function signinPage(main) {
  if (S.me.sign_in === "gateway") {
    main.replaceChildren(h("h2", {}, "登录"), h("p", {}, "请通过统一身份认证（浙政钉）登录后再打开本系统。"));
    return;
  }
  const roles = Object.keys(L.roles);
  const form = h("form", { "aria-labelledby": "signin-title" },
    h("h2", { id: "signin-title" }, "登录（本地开发身份）"),
    h("p", { class: "hint" }, "本地环境：选择角色与单位即可登录。生产环境通过统一身份认证登录。"),
    h("label", { for: "role" }, "角色"),
    h("select", { id: "role", name: "role" }, roles.map((r) => h("option", { value: r }, roleName(r)))),
    h("label", { for: "unit" }, "单位编码（项目建设单位必填）"),
    h("input", { type: "text", id: "unit", name: "unit", placeholder: "如 U-CIVIL", autocomplete: "off" }),
    h("label", { for: "subject" }, "用户标识（专家填专家编号，可不填）"),
    h("input", { type: "text", id: "subject", name: "subject", autocomplete: "off" }),
    h("div", { class: "row-actions" }, h("button", { type: "submit" }, "登录")),
    h("div", { id: "signin-result", "aria-live": "polite" }));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const r = await fetch("/auth/dev", {
      method: "POST", credentials: "same-origin",
      headers: { "content-type": "application/json", "x-egov-console": "1" },
      body: JSON.stringify({ role: $("#role").value, unit: $("#unit").value, subject: $("#subject").value }),
    });
    const body = await r.json();
    if (!r.ok) { $("#signin-result").replaceChildren(refusalBox(new Refusal(body, r.status))); return; }
    S.me = body;
    location.hash = "#/todo";
  });
  main.replaceChildren(h("section", { class: "card" }, form));
}

// 待办: what waits for the signed-in role, from the services' own list methods.
function todoSources(me) {
  const unit = me.role === "UNIT" ? me.unit : "";
  // The roles review lets list their tasks (LEADER has none in review).
  const reviewers = ["DRB", "FINANCE", "DRC", "CAC", "XINCHUANG", "GRASSROOTS"];
  return [
    { title: "待合规性审查的申报", roles: ["DRB"], call: ["intake", INTAKE, "ListApplications", { state: "APPLICATION_STATE_SUBMITTED" }], list: "applications", act: [INTAKE, "DecideCompliance", "intake"] },
    { title: "待复审的申报", roles: ["DRB"], call: ["intake", INTAKE, "ListApplications", { state: "APPLICATION_STATE_RE_REVIEW_REQUESTED" }], list: "applications", act: [INTAKE, "DecideCompliance", "intake"] },
    { title: "待决定的补充申报", roles: ["DRB"], call: ["intake", INTAKE, "ListApplications", { state: "APPLICATION_STATE_AWAITING_SUPPLEMENTARY_DECISION" }], list: "applications", act: [INTAKE, "DecideSupplementary", "intake"] },
    { title: "本单位的申报（草稿与未通过）", roles: ["UNIT"], call: ["intake", INTAKE, "ListApplications", { unit_id: unit }], list: "applications", keep: (a) => /DRAFT|COMPLIANCE_FAILED/.test(a.state), act: [INTAKE, "SubmitApplication", "intake"] },
    { title: "尚未记录分管领导同意的申报（草稿）", roles: ["LEADER"], call: ["intake", INTAKE, "ListApplications", { state: "APPLICATION_STATE_DRAFT" }], list: "applications", keep: (a) => !a.leader_consent_recorded, page: ["#/consent/", "分管领导同意"] },
    { title: "审核任务", roles: reviewers, call: ["review", REVIEW, "ListTasks", {}], list: "tasks", keep: (t) => !/DONE|CANCELLED/.test(t.state) },
    { title: "采购与建设中的项目", roles: ["UNIT", "DRB", "FINANCE"], call: ["procurement", PROCUREMENT, "ListCases", { unit_id: unit }], list: "cases", keep: (c) => !/TERMINATED|COMPLETED/.test(c.state), page: ["#/payments/", "合同与付款"] },
    { title: "验收中的项目", roles: ["UNIT", "DRB"], call: ["acceptance", ACCEPTANCE, "ListCases", { unit_id: unit }], list: "cases", keep: (c) => !/ACCEPTED$/.test(c.state), page: ["#/acceptance/", "验收办理"] },
    { title: "到期的绩效评价", roles: ["DRB", "FINANCE"], call: ["evaluation", EVALUATIONS, "ListSchedules", { due_by: today() }], list: "schedules" },
    { title: "逾期的等保测评/密码评估", roles: ["DRB", "UNIT"], call: ["evaluation", EVALUATIONS, "ListAssessments", { overdue_only: true }], list: "assessments" },
  ].filter((s) => s.roles.includes(me.role));
}

async function todoPage(main) {
  const sources = todoSources(S.me);
  main.replaceChildren(h("h2", {}, "待办"));
  if (!sources.length) main.append(h("p", {}, "此角色没有待办清单：请从“业务办理”或“项目”进入。"));
  await Promise.all(sources.map(async (s) => {
    const sec = h("section", { class: "card", "aria-label": s.title }, h("h3", {}, s.title), h("p", { class: "hint" }, "正在加载…"));
    main.append(sec);
    const heading = h("h3", {}, s.title);
    const [backend, service, method, body] = s.call;
    const list = pager(async (token) => {
      const r = await api(backend, service, method, { ...body, page_token: token });
      return { rows: (r[s.list] || []).filter(s.keep || (() => true)), next: r.next_page_token };
    }, (items) => (items.length ? todoTable(items, s) : h("p", { class: "hint" }, "没有待办事项。")),
    (items, next, at) => { heading.textContent = at === 0 && !next ? `${s.title}（${items.length}）` : `${s.title}（第 ${at + 1} 页 ${items.length} 条）`; });
    await list.ready;
    sec.replaceChildren(heading, list);
  }));
}

function todoTable(items, s) {
  const due = (it) => Object.keys(it).find((k) => /(due_on|due_at|deadline|due_by|next_due_on)$/.test(k) && it[k]);
  return h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, ["事项", "状态", "期限", "办理"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, items.map((it) => {
      const id = it.project_id || it.application_id || it.app_id || it.case_id || it.task_id || "";
      const name = it.project_name || it.name || it.kind || id;
      const dk = due(it);
      const overdue = it.overdue === true;
      const links = [];
      const project = it.project_id || it.application_id || (it.task_id && it.case_id);
      if (project) links.push(h("a", { href: `#/projects/${encodeURIComponent(project)}` }, "查看项目"));
      if (s.page && (it.project_id || it.application_id)) links.push(" ", h("a", { href: `${s.page[0]}${encodeURIComponent(it.project_id || it.application_id)}` }, s.page[1]));
      const taskMethod = it.task_id && TASK_METHODS[it.kind];
      if (taskMethod && it.assignee_role === S.me.role && !/DONE|CANCELLED/.test(it.state || "")) {
        const q = new URLSearchParams({ case_id: it.case_id, task_id: it.task_id, etag: it.etag || "" });
        links.push(" ", h("a", { href: `#/do/review/${REVIEW}/${taskMethod}?${q}` }, methodTitle(taskMethod)));
      }
      if (s.act && s.act[1] === "DecideCompliance") {
        links.push(" ", h("a", { href: `#/compliance/${encodeURIComponent(it.application_id)}` }, "合规性审查"));
      } else if (s.act) {
        const [svc, m, backend] = s.act;
        const q = new URLSearchParams({ application_id: it.application_id || "", etag: it.etag || "" });
        links.push(" ", h("a", { href: `#/do/${backend}/${svc}/${m}?${q}` }, methodTitle(m)));
      }
      return h("tr", {},
        h("td", {}, name),
        h("td", {}, stateName(it.state || it.status || "")),
        h("td", {}, dk ? show(it[dk], dk) : "—", overdue ? h("span", { class: "overdue" }, " 已逾期") : null),
        h("td", {}, links));
    }))));
}

// The application form: the unit fills intake's CreateApplication, then submits it.
async function applyPage(main) {
  const rounds = await api("intake", INTAKE, "ListRounds", {}).catch(() => ({ rounds: [] }));
  const open = (rounds.rounds || []).find((r) => /OPEN/.test(r.state));
  const prefill = { request_id: newId(), lead_unit_id: S.me.unit || "" };
  const round = open ? open.round_id : "";
  main.replaceChildren(h("h2", {}, "项目申报"),
    h("p", { class: "hint" }, open ? `当前申报批次：${open.name || open.round_id}，截止 ${civil(open.deadline)}` : "当前没有开放的申报批次：批次外申报须先申请补充申报。"));
  await actionForm(main, "intake", INTAKE, "CreateApplication", prefill, (app) => {
    const id = app.application_id;
    return [h("p", {}, `申报书已保存（编号 ${id}）。上传材料、确认后提交：`),
      h("div", { class: "row-actions" },
        h("a", { class: "button", href: `#/do/intake/${INTAKE}/UploadDocument?application_id=${id}` }, "上传申报材料"),
        h("a", { class: "button", href: `#/do/intake/${INTAKE}/SubmitApplication?application_id=${id}&etag=${app.etag}&round_id=${round}` }, "提交申报"),
        h("a", { class: "button secondary", href: `#/projects/${id}` }, "查看项目"))];
  });
}

// One method's form: drawn from its request message, sent as the signed-in person.
async function actionForm(main, backend, service, method, prefill, after) {
  const svc = S.schema.backends.find((b) => b.name === backend).services.find((s) => s.name === service);
  const m = svc && svc.methods.find((x) => x.name === method);
  if (!m) { main.append(refusalBox({ body: { code: "NOT_FOUND", message: `没有方法 ${service}/${method}` } })); return; }
  if (m.client_streaming) return uploadForm(main, backend, service, m, prefill);
  if ("request_id" in Object.fromEntries(S.schema.messages[m.input].fields.map((f) => [f.name, 1])) && !prefill.request_id) prefill.request_id = newId();
  const fields = formFor(m.input, prefill);
  const result = h("div", { "aria-live": "polite" });
  const form = h("form", { "aria-label": methodTitle(method) }, fields,
    h("div", { class: "row-actions" }, h("button", { type: "submit" }, methodTitle(method))), result);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const btn = $("button[type=submit]", form); btn.disabled = true;
    try {
      const body = await readForm(fields);
      const answer = await api(backend, service, method, body);
      markInvalid(fields, { body: {} });
      result.replaceChildren(h("div", { class: "ok", role: "status" }, h("strong", {}, "已办理。"), after ? after(answer) : null), kv(answer));
    } catch (e) {
      markInvalid(fields, e);
      result.replaceChildren(refusalBox(e));
    } finally { btn.disabled = false; }
  });
  main.append(h("section", { class: "card" }, form));
}

async function uploadForm(main, backend, service, m, prefill) {
  const input = S.schema.messages[m.input];
  const metaField = input.fields.find((f) => f.oneof && f.kind === "message");
  if (S.schema.messages[metaField.type].fields.some((f) => f.name === "request_id") && !prefill.request_id) prefill.request_id = newId();
  const fields = formFor(metaField.type, prefill);
  const file = h("input", { type: "file", id: "upload-file", required: true });
  const bar = h("progress", { max: "1", value: "0", "aria-label": "上传进度" });
  const result = h("div", { "aria-live": "polite" });
  const form = h("form", { "aria-label": methodTitle(m.name) }, fields, h("label", { for: "upload-file" }, "文件"), file, bar,
    h("div", { class: "row-actions" }, h("button", { type: "submit" }, methodTitle(m.name))), result);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const f = file.files[0];
    if (!f) { result.replaceChildren(refusalBox({ body: { code: "INVALID_ARGUMENT", message: "请选择要上传的文件" } })); return; }
    const meta = await readForm(fields);
    const has = (n) => S.schema.messages[metaField.type].fields.some((x) => x.name === n);
    if (!meta.file_name && has("file_name")) meta.file_name = f.name;
    if (!meta.content_type && f.type && has("content_type")) meta.content_type = f.type;
    try {
      const answer = await uploadFile(backend, service, m.name, meta, f, (p) => (bar.value = p));
      bar.value = 1;
      result.replaceChildren(h("div", { class: "ok", role: "status" }, "已上传。"), kv(answer));
    } catch (e) { markInvalid(fields, e); result.replaceChildren(refusalBox(e)); }
  });
  main.append(h("section", { class: "card" }, form));
}

// A review task's kind → the method that completes it.
const TASK_METHODS = { "preliminary.opinion": "SubmitPreliminaryOpinion", "recheck.opinion": "SubmitRecheckOpinion" };

// What a form may start with, read from the services themselves: the current version mark
// (etag) of the case, meeting or application the form names, and the rows a score form needs
// (preliminary criteria from the case's scoring sheet; expert-review dimensions from the
// proto's own description of the score sheet). Nothing is decided here: a stale or wrong value
// is refused by the service as always.
async function enrich(backend, service, method, prefill) {
  const input = S.schema.messages[methodOf(backend, service, method)?.input || ""];
  if (!input) return prefill;
  const has = (n) => input.fields.some((f) => f.name === n);
  const quiet = (p) => p.catch(() => ({}));
  if (has("etag") && !prefill.etag) {
    let got = {};
    if (prefill.meeting_id && service === EXPERT) got = await quiet(api("review", EXPERT, "GetMeeting", { meeting_id: prefill.meeting_id }));
    else if (prefill.case_id && backend === "review") got = await quiet(api("review", REVIEW, "GetCase", { case_id: prefill.case_id }));
    else if (prefill.project_id && backend === "procurement") got = await quiet(api("procurement", PROCUREMENT, "GetCase", { project_id: prefill.project_id }));
    else if (prefill.project_id && backend === "acceptance") got = await quiet(api("acceptance", ACCEPTANCE, "GetCase", { project_id: prefill.project_id }));
    else if (prefill.application_id && backend === "intake") got = await quiet(api("intake", INTAKE, "GetApplication", { application_id: prefill.application_id }));
    if (got.etag) prefill.etag = got.etag;
  }
  if (method === "SubmitPreliminaryOpinion" && prefill.case_id && !prefill.scores) {
    const sheet = await quiet(api("review", REVIEW, "GetScoringSheet", { case_id: prefill.case_id }));
    if (sheet.criteria) prefill.scores = sheet.criteria.map((c) => ({ code: c.code }));
  }
  if (method === "SubmitExpertScore" && !prefill.scores) {
    const said = (S.schema.comments || {})["egov.review.v1.ExpertScoreSheet.scores"] || "";
    const dims = said.match(/\b[A-Z][A-Z_]{2,}\b/g) || [];
    if (dims.length) prefill.scores = dims.map((d) => ({ dimension: d }));
  }
  return prefill;
}
function methodOf(backend, service, method) {
  const b = S.schema.backends.find((x) => x.name === backend);
  const s = b && b.services.find((x) => x.name === service);
  return s && s.methods.find((x) => x.name === method);
}

async function actionPage(main, backend, service, method, query) {
  const prefill = await enrich(backend, service, method, Object.fromEntries(new URLSearchParams(query || "")));
  main.replaceChildren(h("h2", {}, `${L.services[service] || service} · ${methodTitle(method)}`),
    h("p", { class: "hint" }, `${service}/${method}`));
  await actionForm(main, backend, service, method, prefill);
}

async function actionsPage(main) {
  main.replaceChildren(h("h2", {}, "业务办理"),
    h("p", { class: "hint" }, "每项业务都由对应服务按《管理办法》的规则办理；无权办理的业务，服务会拒绝并说明原因。"));
  for (const b of S.schema.backends) {
    const sec = h("section", { class: "card" }, h("h3", {}, b.title));
    for (const s of b.services.filter((s) => !s.name.startsWith("egov.common.") || b.name === "intake")) {
      sec.append(h("h4", {}, L.services[s.name] || s.short), h("ul", { class: "methods" },
        s.methods.filter((m) => !m.server_streaming).map((m) => h("li", {}, h("a", { href: `#/do/${b.name}/${s.name}/${m.name}` }, methodTitle(m.name))))));
    }
    main.append(sec);
  }
}

async function projectsPage(main) {
  const heading = h("h2", {}, "项目");
  const list = pager(async (token) => {
    const r = await api("intake", INTAKE, "ListProjects", { unit_id: S.me.role === "UNIT" ? S.me.unit : "", page_token: token });
    return { rows: r.projects || [], next: r.next_page_token };
  }, (projects) => (projects.length ? h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["项目名称", "牵头单位", "当前阶段", ""].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, projects.map((p) => h("tr", {}, h("td", {}, p.name), h("td", {}, p.lead_unit_id), h("td", {}, p.status),
        h("td", {}, h("a", { href: `#/projects/${encodeURIComponent(p.project_id)}` }, "查看"))))))) : h("p", {}, "还没有项目。")),
  (rows, next, at) => { heading.textContent = at === 0 && !next ? `项目（${rows.length}）` : `项目（第 ${at + 1} 页）`; });
  main.replaceChildren(heading, list);
  await list.ready;
}

// 审计: every service's audit trail verified (its chains against their sealed anchors), its
// records and its refused calls, a page at a time; for one project when its number is given.
async function auditPage(main) {
  const project = new URLSearchParams(location.hash.split("?")[1] || "").get("project_id") || "";
  const filter = h("form", { "aria-label": "按项目查看" },
    h("label", { for: "audit-project" }, "项目编号（不填则为全部记录）"),
    h("input", { type: "text", id: "audit-project", autocomplete: "off", value: project }),
    h("div", { class: "row-actions" }, h("button", { type: "submit" }, "查看")));
  filter.addEventListener("submit", (ev) => {
    ev.preventDefault();
    const v = $("#audit-project").value.trim();
    history.replaceState(null, "", v ? `#/audit?project_id=${encodeURIComponent(v)}` : "#/audit");
    route();
  });
  main.replaceChildren(h("h2", {}, "审计记录与校验"), h("section", { class: "card" }, filter));
  const verified = h("section", { class: "card", "aria-label": "审计链校验" }, h("h3", {}, "审计链校验（各服务）"));
  const rows = S.schema.backends.map((b) => {
    const cell = h("td", {}, h("span", { class: "hint" }, "正在校验…"));
    const detail = h("td", {});
    api(b.name, AUDIT, "VerifyAuditTrail", { project_id: project }).then((v) => {
      cell.replaceChildren(h("strong", { class: v.intact ? "intact" : "overdue" }, v.intact ? "完整" : "已被改动"));
      detail.replaceChildren(`校验 ${v.records_checked} 条记录、${v.chains_checked} 条链、${v.anchors_checked} 个锚点；已封存 ${v.records_sealed} 条，未封存 ${v.unsealed_records} 条`,
        v.intact ? "" : `；首个损坏记录 ${v.first_broken_seq}：${v.detail}`,
        (v.broken_chains || []).length ? table(v.broken_chains) : "");
    }).catch((e) => cell.replaceChildren(refusalBox(e)));
    return h("tr", {}, h("th", { scope: "row" }, b.title), cell, detail);
  });
  verified.append(h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, ["服务", "结果", "说明"].map((t) => h("th", { scope: "col" }, t)))), h("tbody", {}, rows))));
  main.append(verified);
  const choose = h("select", { id: "audit-backend" }, S.schema.backends.map((b) => h("option", { value: b.name }, b.title)));
  const records = h("div");
  const denied = h("div");
  const load = () => {
    const b = choose.value;
    records.replaceChildren(pager(async (token) => {
      const r = await api(b, AUDIT, "ListAuditRecords", { project_id: project, page_size: 20, page_token: token });
      return { rows: r.records || [], next: r.next_page_token };
    }, (rs) => (rs.length ? table(rs.map(({ seq, at, actor, role, unit_id, action, project_id, rule_ids }) => ({ seq, at: when(at), actor, role, unit_id, action, project_id, rule_ids: (rule_ids || []).join("、") }))) : h("p", { class: "hint" }, "（无）"))));
    denied.replaceChildren(pager(async (token) => {
      const r = await api(b, AUDIT, "ListDeniedCalls", { page_size: 20, page_token: token });
      return { rows: (r.calls || []).map((c) => ({ ...c, at: when(c.at) })), next: r.next_page_token };
    }, (rs) => (rs.length ? table(rs) : h("p", { class: "hint" }, "（无）"))));
  };
  choose.addEventListener("change", load);
  main.append(h("section", { class: "card", "aria-label": "审计记录" }, h("h3", {}, "审计记录"),
    h("label", { for: "audit-backend" }, "服务"), choose, records),
    h("section", { class: "card", "aria-label": "被拒调用" }, h("h3", {}, "被拒调用（认证或权限不符）"), denied));
  load();
}

// A project page: the cross-service timeline, documents with hashes, money, deadlines.
async function projectPage(main, id) {
  const status = await api("intake", INTAKE, "GetProjectStatus", { project_id: id });
  main.replaceChildren(h("h2", {}, status.name || id), kv({ project_id: id, lead_unit_id: status.lead_unit_id, status: status.status }));
  const timeline = h("section", { class: "card", "aria-label": "进度记录" }, h("h3", {}, "进度记录（各服务）"),
    h("div", { class: "table-wrap" }, h("table", {},
      h("thead", {}, h("tr", {}, ["时间", "阶段", "事项", "来源服务"].map((t) => h("th", { scope: "col" }, t)))),
      h("tbody", {}, (status.timeline || []).map((e) => h("tr", {}, h("td", {}, when(e.occurred_at)), h("td", {}, e.status), h("td", {}, e.summary || e.event_type), h("td", {}, e.producer)))))));
  main.append(timeline);
  const parts = [
    ["申报书", () => api("intake", INTAKE, "GetApplication", { application_id: id })],
    ["申报材料（含摘要）", () => api("intake", INTAKE, "ListDocuments", { application_id: id })
      .then((r) => documentsTable(r.documents || [], ["intake", INTAKE, "DownloadDocument"]))],
    ["审核审批", () => api("review", REVIEW, "GetCase", { case_id: id })],
    ["采购、合同与付款", () => api("procurement", PROCUREMENT, "GetCase", { project_id: id })],
    ["验收", () => api("acceptance", ACCEPTANCE, "GetCase", { project_id: id })],
    ["验收材料（含摘要）", () => api("acceptance", ACCEPTANCE, "ListMaterials", { project_id: id })
      .then((r) => documentsTable(r.materials || [], ["acceptance", ACCEPTANCE, "DownloadMaterial"]))],
    ["绩效评价", () => api("evaluation", EVALUATIONS, "GetEntry", { entry_id: id })],
  ];
  for (const [title, load] of parts) {
    const sec = h("section", { class: "card", "aria-label": title }, h("h3", {}, title), h("p", { class: "hint" }, "正在加载…"));
    main.append(sec);
    load().then((v) => sec.replaceChildren(h("h3", {}, title), v instanceof Node ? v : Array.isArray(v) ? show(v) : kv(v)))
      .catch((e) => sec.replaceChildren(h("h3", {}, title), e.http === 404 ? h("p", { class: "hint" }, "尚未进入此阶段。") : refusalBox(e)));
  }
}

// The expert-review dimensions, as the proto describes the score sheet.
function expertDimensions() {
  const said = (S.schema.comments || {})["egov.review.v1.ExpertScoreSheet.scores"] || "";
  return said.match(/\b[A-Z][A-Z_]{2,}\b/g) || [];
}

function okBox(text) {
  return h("div", { class: "ok", role: "status" }, h("strong", {}, "已办理。"), text ? ` ${text}` : null);
}

// 分管领导同意 (R-I6): the district leader reads the application and records the consent.
// Whether the application needs it, and whether it may still be given, is intake's decision.
async function consentPage(main, id) {
  const a = await api("intake", INTAKE, "GetApplication", { application_id: id });
  main.replaceChildren(h("h2", {}, `分管领导同意：${a.name}`),
    h("section", { class: "card", "aria-label": "申报概况" }, h("h3", {}, "申报概况"),
      kv({ lead_unit_id: a.lead_unit_id, state: a.state, category: a.category, build_type: a.build_type, total_budget_fen: a.total_budget_fen,
        fast_track_grounds: a.fast_track_grounds, modules: a.modules, necessity: a.necessity, leader_consent_recorded: a.leader_consent_recorded })),
    h("p", {}, h("a", { href: `#/projects/${encodeURIComponent(id)}` }, "查看项目")));
  const result = h("div", { "aria-live": "polite" });
  const form = h("form", { "aria-label": "记录分管领导同意" },
    h("label", { for: "consent-comment" }, "意见"), h("textarea", { id: "consent-comment" }),
    h("div", { class: "row-actions" }, h("button", { type: "submit" }, "同意")), result);
  onSubmit(form, result, async () => {
    const answer = await api("intake", INTAKE, "RecordLeaderConsent", { application_id: id, comment: $("#consent-comment").value });
    result.replaceChildren(okBox(`已记录同意（${stateName(answer.state)}）。`));
  });
  main.append(h("section", { class: "card" }, form));
}

// 专家评分: an expert opens the meeting they were drawn for and scores each of its cases.
async function expertPage(main, meetingId) {
  main.replaceChildren(h("h2", {}, "专家评分"));
  const open = h("form", { "aria-label": "打开评审会" },
    h("label", { for: "meeting-id" }, "评审会编号（见评审会通知）"),
    h("input", { type: "text", id: "meeting-id", autocomplete: "off", value: meetingId || "" }),
    h("div", { class: "row-actions" }, h("button", { type: "submit" }, "打开评审会")));
  open.addEventListener("submit", (ev) => { ev.preventDefault(); location.hash = `#/expert/${encodeURIComponent($("#meeting-id").value.trim())}`; });
  main.append(h("section", { class: "card" }, open));
  if (!meetingId) return;
  const m = await api("review", EXPERT, "GetMeeting", { meeting_id: meetingId });
  const me = S.me.subject;
  main.append(h("section", { class: "card", "aria-label": "评审会" }, h("h3", {}, "评审会"),
    kv({ held_on: m.held_on, state: m.state, panel: (m.panel || []).map((e) => `${e.name || e.expert_id}（${e.expert_id}）`).join("、") })));
  if (!(m.panel || []).some((e) => e.expert_id === me)) main.append(h("p", { class: "hint" }, `您（${me}）不在本次评审会的专家组中：评分将被服务拒绝。`));
  const dims = expertDimensions();
  for (const caseId of m.case_ids || []) {
    const sec = h("section", { class: "card", "aria-label": `案件 ${caseId}` }, h("h3", {}, `案件 ${caseId}`));
    sec.dataset.case = caseId;
    const mine = (m.scores || []).find((x) => x.expert_id === me && x.case_id === caseId);
    if (mine) {
      sec.append(h("p", {}, "您已提交评分："), table(mine.scores.map((d) => ({ dimension: L.dimensions[d.dimension] || d.dimension, score: d.score }))),
        h("p", {}, `意见：${mine.opinion || "—"}`));
      main.append(sec);
      continue;
    }
    const inputs = dims.map((d, i) => {
      const inputId = `score-${caseId}-${i}`;
      return [d, h("div", {}, h("label", { for: inputId }, `${L.dimensions[d] || d}（0–100 分）`),
        h("input", { type: "number", id: inputId, min: "0", max: "100", step: "1", required: true }))];
    });
    const result = h("div", { "aria-live": "polite" });
    const form = h("form", { "aria-label": `评分：案件 ${caseId}` }, inputs.map(([, el]) => el),
      h("label", { for: `opinion-${caseId}` }, "评审意见"), h("textarea", { id: `opinion-${caseId}` }),
      h("div", { class: "row-actions" }, h("button", { type: "submit" }, "提交专家评分")), result);
    const requestId = newId();
    onSubmit(form, result, async () => {
      const scores = inputs.map(([d, el]) => ({ dimension: d, score: Number($("input", el).value) }));
      await api("review", EXPERT, "SubmitExpertScore", { meeting_id: meetingId, case_id: caseId, scores, opinion: $(`#opinion-${caseId}`).value, request_id: requestId });
      result.replaceChildren(okBox("评分已提交。"));
    });
    sec.append(form);
    main.append(sec);
  }
}

// 合同与付款: the contract's payment stages, each stage's condition and its payment filings.
async function paymentsPage(main, id) {
  const k = await api("procurement", PROCUREMENT, "GetCase", { project_id: id });
  const c = k.contract || {};
  main.replaceChildren(h("h2", {}, `合同与付款：${k.project_name || id}`),
    h("section", { class: "card" }, kv({ state: k.state, contract_amount_fen: c.terms && c.terms.amount_fen, paid_fen: c.paid_fen })),
    h("p", {}, h("a", { href: `#/projects/${encodeURIComponent(id)}` }, "查看项目"), " ",
      h("a", { href: `#/do/procurement/${PROCUREMENT}/SetPaymentPlan?project_id=${encodeURIComponent(id)}` }, "设定付款计划"), " ",
      h("a", { href: `#/do/procurement/${PROCUREMENT}/ReportProgress?project_id=${encodeURIComponent(id)}` }, "报送进度月报"), " ",
      h("a", { href: `#/do/procurement/${PROCUREMENT}/DeclareConstructionComplete?project_id=${encodeURIComponent(id)}` }, "建设完成")));
  const stages = c.payment_stages || [];
  if (!stages.length) { main.append(h("p", { class: "hint" }, "尚未设定付款计划（合同备案后由建设单位设定）。")); return; }
  main.append(h("section", { class: "card", "aria-label": "付款阶段" }, h("h3", {}, "付款阶段"), h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, ["阶段", "付款条件", "比例", "金额", "条件达成", "已付"].map((t) => h("th", { scope: "col" }, t)))),
    h("tbody", {}, stages.map((p) => h("tr", {}, h("td", {}, p.stage_id), h("td", {}, p.condition), h("td", {}, `${(p.ratio_bp || 0) / 100}%`),
      h("td", {}, yuan(p.amount_fen)), h("td", {}, p.condition_met ? `已达成（${civil(p.condition_met_on)}）` : "未达成"), h("td", {}, yuan(p.paid_fen)))))))));
  for (const [i, p] of stages.entries()) {
    const result = h("div", { "aria-live": "polite" });
    const sec = h("section", { class: "card", "aria-label": `阶段 ${p.stage_id}` }, h("h3", {}, `阶段 ${p.stage_id}：${p.condition}`));
    if (!p.condition_met) {
      const form = h("form", { "aria-label": `确认付款条件达成：${p.stage_id}` },
        h("label", { for: `evidence-${i}` }, "达成依据"), h("input", { type: "text", id: `evidence-${i}`, autocomplete: "off" }),
        h("div", { class: "row-actions" }, h("button", { type: "submit" }, `确认付款条件达成：${p.stage_id}`)), result);
      onSubmit(form, result, async () => {
        await api("procurement", PROCUREMENT, "MarkStageConditionMet", { project_id: id, etag: k.etag, stage_id: p.stage_id, evidence: $(`#evidence-${i}`).value, request_id: newId() });
        route();
      });
      sec.append(form);
    } else {
      const form = h("form", { "aria-label": `付款备案：${p.stage_id}` },
        h("label", { for: `amount-${i}` }, "本次付款金额（分）"),
        h("input", { type: "number", id: `amount-${i}`, step: "1", min: "1", "aria-describedby": `amount-${i}-hint` }),
        h("div", { class: "hint", id: `amount-${i}-hint` }, `以“分”为单位：1 元 = 100 分。本阶段金额 ${yuan(p.amount_fen)}，已付 ${yuan(p.paid_fen)}。`),
        h("div", { class: "row-actions" }, h("button", { type: "submit" }, `付款备案：${p.stage_id}`)), result);
      onSubmit(form, result, async () => {
        await api("procurement", PROCUREMENT, "FilePayment", { project_id: id, etag: k.etag, stage_id: p.stage_id, amount_fen: $(`#amount-${i}`).value, request_id: newId() });
        route();
      });
      sec.append(form);
    }
    main.append(sec);
  }
  if ((c.payments || []).length) main.append(h("section", { class: "card", "aria-label": "付款备案记录" }, h("h3", {}, "付款备案记录"), show(c.payments)));
}

// 验收办理: the acceptance case, its materials (downloadable, with hashes) and its steps.
async function acceptancePage(main, id) {
  const k = await api("acceptance", ACCEPTANCE, "GetCase", { project_id: id });
  const q = `?project_id=${encodeURIComponent(id)}`;
  const step = (m, text) => h("li", {}, h("a", { href: `#/do/acceptance/${ACCEPTANCE}/${m}${q}` }, text || methodTitle(m)));
  main.replaceChildren(h("h2", {}, `验收办理：${k.project_name || id}`),
    h("section", { class: "card", "aria-label": "验收案件" }, h("h3", {}, "验收案件"), kv({ state: k.state, lead_unit_id: k.lead_unit_id, document_number: k.document_number, contract_amount_fen: k.contract_amount_fen,
      construction_completed_on: k.construction_completed_on, trial: k.trial, rectify_by: k.rectify_by, accepted_on: k.accepted_on })),
    h("section", { class: "card", "aria-label": "验收环节" }, h("h3", {}, "验收环节"),
      h("p", { class: "hint" }, "各环节能否办理由验收服务按《管理办法》决定；不能办理时会显示规则编号和原因。"),
      h("ol", {}, step("UploadMaterial", "上传验收材料"), step("RecordInitialAcceptance"), step("DepositTrialReport", "试运行报告（区数据资源局手工上传）"),
        step("ApplyForAcceptance"), step("ReviewApplication"), step("RecordAcceptance"))),
    h("p", {}, h("a", { href: `#/projects/${encodeURIComponent(id)}` }, "查看项目")));
  const mats = await api("acceptance", ACCEPTANCE, "ListMaterials", { project_id: id }).then((r) => r.materials || []).catch(() => []);
  main.append(h("section", { class: "card", "aria-label": "验收材料" }, h("h3", {}, "验收材料"), documentsTable(mats, ["acceptance", ACCEPTANCE, "DownloadMaterial"])));
}

function bar(percent, what) {
  const fill = h("span");
  fill.style.width = `${percent}%`;
  return h("div", { class: "bar", role: "img", "aria-label": `${what} ${percent}%` }, fill);
}

// 合规性审查: DRB's checklist of the application's policy version, one result per item.
async function compliancePage(main, id) {
  const [app, list] = await Promise.all([
    api("intake", INTAKE, "GetApplication", { application_id: id }),
    api("intake", INTAKE, "GetComplianceChecklist", { application_id: id }),
  ]);
  main.replaceChildren(h("h2", {}, `合规性审查：${app.name}`),
    h("section", { class: "card" }, kv({ lead_unit_id: app.lead_unit_id, state: app.state, total_budget_fen: app.total_budget_fen,
      security_budget_fen: app.security_budget_fen, flags: app.flags, documents: app.documents })));
  const items = list.items || [];
  const rows = items.map((it, i) => {
    const name = `item-${i}`;
    return h("fieldset", { class: "check-item" }, h("legend", {}, `${i + 1}. ${it.title}`),
      h("div", { class: "check" }, h("input", { type: "radio", id: `${name}-pass`, name, value: "pass", required: true }), h("label", { for: `${name}-pass` }, "符合")),
      h("div", { class: "check" }, h("input", { type: "radio", id: `${name}-fail`, name, value: "fail" }), h("label", { for: `${name}-fail` }, "不符合")),
      h("label", { for: `${name}-note` }, "说明"), h("input", { type: "text", id: `${name}-note`, autocomplete: "off" }));
  });
  const result = h("div", { "aria-live": "polite" });
  const form = h("form", { "aria-label": "合规性审查清单" }, h("p", { class: "hint" }, `政策版本 ${list.policy_version}：每一项都须给出结论。`), rows,
    h("label", { for: "compliance-comment" }, "审查意见"), h("textarea", { id: "compliance-comment" }),
    h("div", { class: "row-actions" }, h("button", { type: "submit" }, "提交审查结论")), result);
  onSubmit(form, result, async () => {
    const results = items.map((it, i) => ({ code: it.code, passed: $(`#item-${i}-pass`).checked, note: $(`#item-${i}-note`).value }));
    const answer = await api("intake", INTAKE, "DecideCompliance", { application_id: id, etag: app.etag, results, comment: $("#compliance-comment").value });
    result.replaceChildren(h("div", { class: "ok", role: "status" }, `已提交：${stateName(answer.state)}`), h("a", { href: `#/projects/${id}` }, "查看项目"));
  });
  main.append(h("section", { class: "card" }, form));
}

// 驾驶舱: projects by stage, overdue items, money approved / contracted / paid.
async function overviewPage(main) {
  main.replaceChildren(h("h2", {}, "驾驶舱"));
  const [projects, cases, schedules] = await Promise.all([
    api("intake", INTAKE, "ListProjects", { page_size: 500 }).then((r) => r.projects || []).catch(() => []),
    api("procurement", PROCUREMENT, "ListCases", { page_size: 500 }).then((r) => r.cases || []).catch(() => []),
    api("evaluation", EVALUATIONS, "ListSchedules", { due_by: today() }).then((r) => r.schedules || []).catch(() => []),
  ]);
  const byStage = {};
  for (const p of projects) byStage[p.status || "—"] = (byStage[p.status || "—"] || 0) + 1;
  const sum = (k) => cases.reduce((a, c) => a + Number(c[k] || (c.contract && c.contract[k]) || 0), 0);
  const budget = sum("budget_fen"), contracted = sum("contract_amount_fen"), paid = sum("paid_fen");
  const pct = (a, b) => (b ? Math.min(100, Math.round((a / b) * 100)) : 0);
  main.append(
    h("div", { class: "tiles" },
      h("div", { class: "tile" }, h("div", {}, "项目总数"), h("div", { class: "n" }, projects.length)),
      h("div", { class: "tile" }, h("div", {}, "到期待评价的应用"), h("div", { class: "n" }, schedules.length)),
      h("div", { class: "tile" }, h("div", {}, "批复预算"), h("div", { class: "n" }, yuan(budget))),
      h("div", { class: "tile" }, h("div", {}, "合同金额"), h("div", { class: "n" }, yuan(contracted)), bar(pct(contracted, budget), "占预算")),
      h("div", { class: "tile" }, h("div", {}, "已付金额"), h("div", { class: "n" }, yuan(paid)), bar(pct(paid, contracted), "占合同"))),
    h("section", { class: "card" }, h("h3", {}, "各阶段项目数"),
      Object.keys(byStage).length ? table(Object.entries(byStage).map(([stage, n]) => ({ status: stage, count: n }))) : h("p", {}, "还没有项目。")));
}

window.addEventListener("hashchange", route);
window.addEventListener("DOMContentLoaded", route);

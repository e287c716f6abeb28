// The operator console: sign in with Cognito, then the exceptions inbox, an exception with its actions, and a
// run with its audit trail — all over /ops/v1 with the user's ID token. No framework, no build step; every
// value from the API is put in the page as text (never as HTML): payloads carry vendors' data.
"use strict";

const TOKEN = "erphub.ops.idToken";
const state = { config: null, me: null, kinds: null };  // kinds: GET /kinds (exception_kinds.json), read once
const PAGES = {};  // more pages, by the first part of the hash (recovery.js: quarantine, dlqs, timeline)

class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

// --- DOM ------------------------------------------------------------------------------------------------
function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

function show(...nodes) {
  const main = document.getElementById("main");
  main.replaceChildren(...nodes.filter((n) => n !== null && n !== undefined));  // else the page reads "null"
}

function flash(message, kind = "info") {
  const box = document.getElementById("flash");
  box.textContent = message;
  box.className = kind;
  box.hidden = !message;
}

function age(seconds) {
  if (seconds === undefined || seconds === null) return "";
  const s = Math.round(seconds);
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86400)} d`;
}

function json(value) { return h("pre", { class: "json" }, JSON.stringify(value, null, 2)); }

function field(label, value) { return [h("dt", {}, label), h("dd", {}, value ?? "")]; }

// --- Cognito and the API --------------------------------------------------------------------------------
async function settings() {
  if (!state.config) {
    const answer = await fetch("console/config.json");
    if (!answer.ok) throw new Error(`the console's settings are unavailable (${answer.status})`);
    state.config = await answer.json();
  }
  return state.config;
}

async function signIn(username, password) {
  const config = await settings();
  const answer = await fetch(config.cognito_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-amz-json-1.1",
               "X-Amz-Target": "AWSCognitoIdentityProviderService.InitiateAuth" },
    body: JSON.stringify({ ClientId: config.client_id, AuthFlow: "USER_PASSWORD_AUTH",
                           AuthParameters: { USERNAME: username, PASSWORD: password } }),
  });
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new Error(body.message || "sign-in failed");
  if (!body.AuthenticationResult) {
    throw new Error(`Cognito asks for ${body.ChallengeName}: set a permanent password with the AWS CLI first`);
  }
  sessionStorage.setItem(TOKEN, body.AuthenticationResult.IdToken);
}

function signOut() {
  sessionStorage.removeItem(TOKEN);
  state.me = null;
  location.hash = "#/login";
}

function errorMessage(body, status) {
  if (body && typeof body === "object") {
    if (Array.isArray(body.detail)) return body.detail.map((d) => `${(d.loc || []).join(".")}: ${d.msg || d.type}`).join("; ");
    return body.message || body.error || JSON.stringify(body);
  }
  return body || `HTTP ${status}`;
}

async function api(method, path, body) {
  const token = sessionStorage.getItem(TOKEN);
  if (!token) throw new ApiError(401, "not signed in");
  const answer = await fetch(`v1${path}`, {
    method, headers: { Authorization: token, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await answer.text();
  let data = text;
  try { data = text ? JSON.parse(text) : null; } catch { /* not JSON: keep the text */ }
  if (answer.status === 401) { sessionStorage.removeItem(TOKEN); throw new ApiError(401, "signed out: sign in again"); }
  if (!answer.ok) throw new ApiError(answer.status, `${answer.status}: ${errorMessage(data, answer.status)}`);
  return data;
}

const canAct = () => Boolean(state.me && (state.me.groups || []).includes("operator"));

// --- pages ----------------------------------------------------------------------------------------------
function loginPage() {
  document.getElementById("nav").hidden = true;
  const user = h("input", { name: "username", type: "email", autocomplete: "username", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true });
  const form = h("form", { id: "login", onsubmit: async (event) => {
    event.preventDefault();
    try {
      await signIn(user.value.trim(), password.value);
      flash("");
      location.hash = "#/exceptions";
    } catch (error) { flash(error.message, "error"); }
  } }, h("h1", {}, "Sign in"), h("label", {}, "Email", user), h("label", {}, "Password", password),
  h("button", { type: "submit" }, "Sign in"));
  show(form);
}

function filtersForm(query, kinds) {
  const select = (name, options) => h("select", { name }, h("option", { value: "" }, "any"),
    options.map((o) => h("option", { value: o.kind, title: o.title, selected: query.get(name) === o.kind }, o.kind)));
  const text = (name, placeholder) => h("input", { name, placeholder, value: query.get(name) || "" });
  const status = h("select", { name: "status" }, ["open", "acting", "resolved", "all"].map(
    (s) => h("option", { value: s, selected: (query.get("status") || "open") === s }, s)));
  return h("form", { id: "filters", onsubmit: (event) => {
    event.preventDefault();
    const chosen = new URLSearchParams();
    for (const [name, value] of new FormData(event.target)) if (value) chosen.set(name, value);
    location.hash = `#/exceptions?${chosen}`;
  } }, h("label", {}, "Kind", select("kind", kinds)), h("label", {}, "Status", status),
  h("label", {}, "Owner", text("owner", "e.g. revops")),
  h("label", {}, "Business id", text("business_id", "deal, contract, customer, invoice…")),
  h("label", {}, "Older than (s)", text("min_age_seconds", "0")), h("button", { type: "submit" }, "Filter"));
}

async function inboxPage(query) {
  const params = new URLSearchParams(query);
  if (!params.get("status")) params.set("status", "open");
  state.kinds ??= await api("GET", "/kinds");  // the kinds the API knows, so the filter never misses one
  const rows = await api("GET", `/exceptions?${params}`);
  const table = h("table", { id: "exceptions" },
    h("thead", {}, h("tr", {}, ["Exception", "Kind", "Owner", "Status", "Age", "Due", "Business ids"].map((c) => h("th", {}, c)))),
    h("tbody", {}, rows.map((e) => h("tr", { "data-exception-id": e.exception_id, class: e.overdue ? "overdue" : "" },
      h("td", {}, h("a", { href: `console#/exceptions/${encodeURIComponent(e.exception_id)}` }, e.title || e.exception_id)),
      h("td", {}, e.kind), h("td", {}, e.owner), h("td", {}, e.status), h("td", {}, age(e.age_seconds)),
      h("td", {}, e.overdue ? "overdue" : (e.due_at || "")),
      h("td", {}, Object.entries(e.business_ids || {}).map(([k, v]) => `${k}: ${v}`).join(", "))))));
  show(h("h1", {}, "Exceptions"), filtersForm(params, state.kinds), rows.length ? table : h("p", { class: "empty" }, "No exceptions match."));
}

function actionForm(name, detail, build) {
  const placeholder = { abandon: "reason (required)", resolve: "what was fixed, and where (required)" }[name] || "note";
  const note = h("textarea", { name: "note", rows: 2, placeholder });
  const extra = build ? build() : null;
  return h("form", { class: "action", "data-action": name, onsubmit: async (event) => {
    event.preventDefault();
    const button = event.submitter || event.target.querySelector("button");
    button.disabled = true;
    try {
      const body = extra ? extra.body(note.value) : { note: note.value };
      const result = await api("POST", `/exceptions/${encodeURIComponent(detail.exception_id)}/${extra?.path || name}`, body);
      flash(`${name}: ${result.resolution || result.status || `${result.moved} redriven`}`, "ok");
      await exceptionPage(detail.exception_id, result);
    } catch (error) { flash(error.message, "error"); button.disabled = false; }
  } }, h("h3", {}, name), extra ? extra.inputs : null, note, h("button", { type: "submit", name }, name));
}

function setPath(target, path, raw) {
  const parts = path.match(/[^.[\]]+/g) || [];
  if (!parts.length) throw new Error(`"${path}" is not a field path`);
  let value = raw;
  try { value = JSON.parse(raw); } catch { /* plain text */ }
  let node = target;
  for (const part of parts.slice(0, -1)) node = node[/^\d+$/.test(part) ? Number(part) : part];
  node[parts.at(-1)] = value;
  return parts[0];
}

const EXTRA = {
  fix: (detail) => () => {
    const path = h("input", { name: "path", placeholder: "account.legal_entities[1].tax_id" });
    const value = h("input", { name: "value", placeholder: "new value" });
    return { inputs: [h("label", {}, "Field", path), h("label", {}, "Value", value)], body: (note) => {
      // as `erphub ops fix --set`: the path is set in a copy of the deal; changed top-level fields are sent
      const deal = structuredClone(detail.payload?.data || {});
      const top = setPath(deal, path.value.trim(), value.value);
      return { changes: { [top]: deal[top] }, note };
    } };
  },
  choose: (detail) => () => {
    const candidates = detail.candidates || [];
    const input = candidates.length
      ? h("select", { name: "customer_id" }, candidates.map((c) => h("option", { value: c }, c)))
      : h("input", { name: "customer_id", placeholder: "customer id" });
    return { inputs: [h("label", {}, "Customer", input)], body: (note) => ({ customer_id: input.value, note }) };
  },
  abandon: () => () => ({ inputs: [], body: (note) => ({ reason: note }) }),
  assign: (detail) => () => {
    const owner = h("input", { name: "owner", value: detail.owner || "" });
    return { inputs: [h("label", {}, "Owner", owner)], body: (note) => ({ owner: owner.value.trim(), note }) };
  },
  comments: () => () => ({ inputs: [], body: (note) => ({ text: note }) }),
};

function actionsPanel(detail) {
  if (!canAct()) return h("p", { class: "readonly" }, "You can read this exception; acting needs the operator group.");
  const forms = (detail.actions || []).map((name) => actionForm(name, detail, EXTRA[name]?.(detail)));
  if (detail.status !== "resolved") {
    forms.push(actionForm("assign", detail, EXTRA.assign(detail)));
    forms.push(actionForm("comments", detail, EXTRA.comments(detail)));
  }
  return h("section", { id: "actions" }, h("h2", {}, "Actions"),
    forms.length ? forms : h("p", { class: "empty" }, "Nothing left to do: the exception is resolved."));
}

function auditTable(entries) {
  return h("table", { class: "audit" }, h("thead", {}, h("tr", {}, ["When", "Who", "Action", "Before", "After", "Note"].map((c) => h("th", {}, c)))),
    h("tbody", {}, (entries || []).map((e) => h("tr", {}, h("td", {}, e.at), h("td", {}, e.actor), h("td", {}, e.action),
      h("td", {}, e.before?.status ?? ""), h("td", {}, e.after?.status ?? ""), h("td", {}, e.note || "")))));
}

async function exceptionPage(id, result) {
  const d = await api("GET", `/exceptions/${encodeURIComponent(id)}`);
  const facts = h("dl", { class: "facts" }, field("Kind", d.kind), field("Status", d.status), field("Owner", d.owner),
    field("Workflow step", d.step), field("Run", h("a", { href: `console#/runs/${encodeURIComponent(d.correlation_id)}` }, d.correlation_id)),
    field("Run status", d.run_status), field("Age", age(d.age_seconds)), field("Due", d.overdue ? `overdue (${d.due_at})` : d.due_at),
    field("Business ids", Object.entries(d.business_ids || {}).map(([k, v]) => `${k}: ${v}`).join(", ")),
    d.business_ids?.business_key ? field("Timeline", h("a", { id: "timeline-link",
      href: `console#/timeline/deal/${encodeURIComponent(d.business_ids.business_key)}` }, d.business_ids.business_key)) : null,
    d.business_ids?.webhook ? field("Webhook", h("a", { id: "webhook-link",  // a quarantined webhook: repair it there
      href: `console#/quarantine/${encodeURIComponent(d.business_ids.webhook)}` }, d.business_ids.webhook)) : null,
    field("Reason", d.reason), field("Error", d.error), d.resolution ? field("Resolution", d.resolution) : null,
    d.resolved_by ? field("Resolved by", `${d.resolved_by} at ${d.resolved_at}`) : null, d.note ? field("Note", d.note) : null);
  show(h("h1", { "data-status": d.status }, d.title || d.exception_id),
    result?.outcome && Object.keys(result.outcome).length ? h("section", { id: "outcome" }, h("h2", {}, "Outcome"), json(result.outcome)) : null,
    facts, actionsPanel(d),
    h("section", {}, h("h2", {}, "Comments"), (d.comments || []).length
      ? h("ul", {}, d.comments.map((c) => h("li", {}, `${c.at} ${c.by}: ${c.text}`))) : h("p", { class: "empty" }, "None.")),
    h("section", {}, h("h2", {}, "Audit trail"), auditTable(d.audit)),
    h("section", {}, h("h2", {}, "Payload"), json(d.payload)));
}

async function runPage(correlationId) {
  const run = await api("GET", `/runs/${encodeURIComponent(correlationId)}`);
  show(h("h1", { "data-status": run.status }, `Run ${run.correlation_id}`),
    h("dl", { class: "facts" }, field("Contract state", run.state), field("Workflow", run.workflow),
      field("Status", run.status), field("Step", run.step), field("Reason", run.reason),
      field("Started", run.started_at), field("Updated", run.updated_at)),
    h("section", {}, h("h2", {}, "Runs"), h("table", { id: "runs" },
      h("thead", {}, h("tr", {}, ["Run", "Workflow", "Version", "Status", "Step", "Updated"].map((c) => h("th", {}, c)))),
      h("tbody", {}, (run.runs || []).map((r) => h("tr", { "data-status": r.status }, h("td", {}, r.correlation_id),
        h("td", {}, r.workflow), h("td", {}, r.version ?? ""), h("td", {}, r.status), h("td", {}, r.step),
        h("td", {}, r.updated_at)))))),
    h("section", {}, h("h2", {}, "Exceptions"), h("ul", {}, (run.exceptions || []).map((e) => h("li", {},
      h("a", { href: `console#/exceptions/${encodeURIComponent(e.exception_id)}` }, `${e.kind}: ${e.title || e.exception_id}`),
      ` (${e.status})`)))),
    h("section", {}, h("h2", {}, "Audit trail"), auditTable(run.audit)));
}

// --- routing --------------------------------------------------------------------------------------------
// Pages render when their requests answer, so a slow page can finish after a newer one and cover it (a list
// still loading when the operator opens one of its rows): the older page then renders the current one again.
let navigations = 0, rendered = 0;

async function route() {
  const mine = ++navigations;
  try {
    await routeTo();
  } finally {
    if (mine < rendered) route();
    else rendered = mine;
  }
}

async function routeTo() {
  const [path, query = ""] = location.hash.replace(/^#/, "").split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "login" || !sessionStorage.getItem(TOKEN)) return loginPage();
  try {
    if (!state.me) state.me = await api("GET", "/me");
    document.getElementById("nav").hidden = false;
    document.getElementById("who").textContent = `${state.me.email || state.me.username} (${(state.me.groups || []).join(", ") || "no group"})`;
    if (parts[0] === "exceptions" && parts[1]) return await exceptionPage(parts[1]);
    if (parts[0] === "runs" && parts[1]) return await runPage(parts[1]);
    if (parts[0] === "kpis") return await kpisPage(query);  // kpis.js
    if (PAGES[parts[0]]) return await PAGES[parts[0]](parts.slice(1), query);
    return await inboxPage(query);
  } catch (error) {
    if (error.status === 401) { flash(error.message, "error"); return loginPage(); }
    flash(error.message, "error");
  }
}

window.addEventListener("hashchange", () => { flash(""); route(); });
document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("sign-out").addEventListener("click", signOut);
  route();
});

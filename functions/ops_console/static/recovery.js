// The console's recovery and history pages: quarantined webhooks (raw body, re-normalize or replay corrected
// fields), dead-letter queues (depth, age, why each message failed, redrive one or all, purge with typed
// confirmation) and the timeline of a deal, contract or customer. Uses app.js's helpers (h, api, show, flash,
// json, field, age, canAct) and registers its pages in PAGES; every API value goes into the page as text.
"use strict";

const enc = encodeURIComponent;

function keyPath(key) {
  const at = key.indexOf("#");
  return `/quarantine/${enc(key.slice(0, at))}/${enc(key.slice(at + 1))}`;
}

function actingForm(name, label, inputs, send) {
  return h("form", { class: "action", "data-action": name, onsubmit: async (event) => {
    event.preventDefault();
    const button = event.submitter || event.target.querySelector("button");
    button.disabled = true;
    try { await send(); } catch (error) { flash(error.message, "error"); button.disabled = false; }
  } }, h("h3", {}, label), inputs, h("button", { type: "submit", name }, label));
}

// --- quarantine -----------------------------------------------------------------------------------------
async function quarantineList() {
  const page = await api("GET", "/quarantine?limit=100");
  const rows = page.items.map((q) => h("tr", { "data-key": q.key },
    h("td", {}, h("a", { href: `console#/quarantine/${enc(q.key)}` }, q.key)), h("td", {}, q.received_at),
    h("td", {}, q.vendor_type), h("td", {}, q.reason)));
  show(h("h1", {}, "Quarantined webhooks"),
    rows.length ? h("table", { id: "quarantine" }, h("thead", {}, h("tr", {}, ["Webhook", "Received", "Type", "Reason"]
      .map((c) => h("th", {}, c)))), h("tbody", {}, rows)) : h("p", { class: "empty" }, "Nothing is quarantined."),
    page.next_token ? h("p", {}, "More are quarantined than shown: use `erphub ops quarantine --limit`.") : null);
}

async function quarantineDetail(key, result) {
  const q = await api("GET", keyPath(key));
  const note = h("textarea", { name: "note", rows: 2, placeholder: "note" });
  const corrected = h("textarea", { name: "event", rows: 12, class: "json",
    placeholder: '{"type": "crm.opportunity.closed_won", "business_key": "...", "version": "1", "data": {...}}' });
  const done = async (answer) => {
    flash(`replayed: ${answer.event_type} ${answer.business_key} (${answer.repair})`, "ok");
    await quarantineDetail(key, answer);
  };
  const actions = q.status !== "quarantined" ? h("p", { class: "empty" }, `Replayed: ${q.status}.`)
    : !canAct() ? h("p", { class: "readonly" }, "Replaying needs the operator group.")
      : h("section", { id: "actions" }, h("h2", {}, "Repair and replay"),
        actingForm("renormalize", "Re-normalize and replay", [note],
          async () => done(await api("POST", `${keyPath(key)}/renormalize`, { note: note.value }))),
        actingForm("replay", "Replay corrected fields", [h("label", {}, "Canonical fields (JSON)", corrected)],
          async () => {
            let event;
            try { event = JSON.parse(corrected.value); } catch (error) { throw new Error(`not JSON: ${error.message}`); }
            await done(await api("POST", `${keyPath(key)}/replay`, { event, note: note.value }));
          }));
  show(h("h1", { "data-status": q.status }, `Quarantined ${q.key}`),
    result ? h("section", { id: "outcome" }, h("h2", {}, "Replayed"), json(result)) : null,
    h("dl", { class: "facts" }, field("Status", q.status), field("Source", q.source), field("Type", q.vendor_type),
      field("Received", q.received_at), field("Reason", q.reason), field("Run", q.correlation_id),
      q.replayed_by ? field("Replayed by", `${q.replayed_by} at ${q.replayed_at}`) : null),
    actions, h("section", {}, h("h2", {}, "Raw body"), h("pre", { id: "raw-body", class: "json" }, q.raw_body)),
    h("section", {}, h("h2", {}, "Headers"), json(q.headers)));
}

// --- dead-letter queues ------------------------------------------------------------------------------------
async function dlqList() {
  const queues = await api("GET", "/dlqs");
  show(h("h1", {}, "Dead-letter queues"), h("table", { id: "dlqs" },
    h("thead", {}, h("tr", {}, ["Queue", "Depth", "In flight", "Oldest", "Source queues"].map((c) => h("th", {}, c)))),
    h("tbody", {}, queues.map((q) => h("tr", { "data-queue": q.name, class: q.depth ? "overdue" : "" },
      h("td", {}, h("a", { href: `console#/dlqs/${enc(q.name)}` }, q.name)), h("td", {}, q.depth),
      h("td", {}, q.in_flight), h("td", {}, q.oldest_age_seconds === null ? "" : age(q.oldest_age_seconds)),
      h("td", {}, q.source_queues.map((s) => s.split("/").pop()).join(", ")))))));
}

async function dlqMessages(queue) {
  const found = await api("GET", `/dlqs/${enc(queue)}/messages?limit=100`);
  const redrive = async (body) => {
    const r = await api("POST", `/dlqs/${enc(queue)}/redrive`, body);
    flash(`redriven to ${r.destination}: ${r.moved ?? "a move task"} (${r.left} left)`, "ok");
    await dlqMessages(queue);
  };
  const rows = found.messages.map((m) => h("tr", { "data-message-id": m.message_id },
    h("td", {}, m.message_id), h("td", {}, m.sent_at || ""), h("td", {}, m.reason.error_type),
    h("td", {}, m.reason.error), h("td", {}, m.reason.receive_count ?? m.reason.attempts ?? ""),
    h("td", {}, m.exception_id ? h("a", { href: `console#/exceptions/${enc(m.exception_id)}` }, m.exception_id) : ""),
    h("td", {}, canAct() ? h("button", { type: "button", name: "redrive-one", onclick: (event) => {
      event.target.disabled = true;
      redrive({ message_id: m.message_id }).catch((error) => { flash(error.message, "error"); event.target.disabled = false; });
    } }, "Redrive") : "")));
  const confirm = h("input", { name: "confirm", placeholder: `type ${queue} to confirm` });
  const acting = !canAct() ? h("p", { class: "readonly" }, "Redriving and purging need the operator group.")
    : h("section", { id: "actions" }, h("h2", {}, "Actions"),
      actingForm("redrive-all", "Redrive all", [], () => redrive({})),
      actingForm("purge", "Purge", [h("label", {}, "Queue name", confirm)], async () => {
        const r = await api("POST", `/dlqs/${enc(queue)}/purge`, { confirm: confirm.value });
        flash(`purged ${r.purged} messages`, "ok");
        await dlqMessages(queue);
      }));
  show(h("h1", {}, `DLQ ${queue}`), h("p", {}, `${found.depth} messages; ${found.messages.length} shown.`), acting,
    rows.length ? h("table", { id: "dead-letters" }, h("thead", {}, h("tr", {}, ["Message", "Sent", "Error", "Reason",
      "Tries", "Exception", ""].map((c) => h("th", {}, c)))), h("tbody", {}, rows))
      : h("p", { class: "empty" }, "The queue is empty."));
}

// --- timeline -------------------------------------------------------------------------------------------
async function timelinePage(subject, id) {
  const form = h("form", { id: "timeline-form", onsubmit: (event) => {
    event.preventDefault();
    const data = new FormData(event.target);
    location.hash = `#/timeline/${enc(data.get("subject"))}/${enc(String(data.get("id")).trim())}`;
  } }, h("label", {}, "Subject", h("select", { name: "subject" }, ["deal", "contract", "customer"].map(
    (s) => h("option", { value: s, selected: s === subject }, s)))),
  h("label", {}, "Id", h("input", { name: "id", value: id || "", required: true })), h("button", { type: "submit" }, "Show"));
  if (!id) return show(h("h1", {}, "Timeline"), form);
  const t = await api("GET", `/timeline/${enc(subject)}/${enc(id)}`);
  show(h("h1", {}, `Timeline of ${t.subject} ${t.id}`), form,
    t.truncated ? h("p", { class: "warning" }, "Truncated: some sources hold more than shown.") : null,
    t.unavailable.length ? h("p", { class: "warning" }, `Unavailable: ${t.unavailable.join(", ")}`) : null,
    h("table", { id: "timeline" }, h("thead", {}, h("tr", {}, ["When", "What", "System", "Summary"].map((c) => h("th", {}, c)))),
      h("tbody", {}, t.entries.map((e) => h("tr", { "data-kind": e.kind }, h("td", {}, e.at), h("td", {}, e.kind),
        h("td", {}, e.system), h("td", {}, e.summary))))));
}

PAGES.quarantine = (parts) => (parts[0] ? quarantineDetail(parts[0]) : quarantineList());
PAGES.dlqs = (parts) => (parts[0] ? dlqMessages(parts[0]) : dlqList());
PAGES.timeline = (parts) => timelinePage(parts[0] || "deal", parts[1]);

// The console's KPI page (#/kpis?window=24h|7d): GET /ops/v1/kpis drawn as figures and bar charts in inline SVG,
// no library. Uses h(), show(), api() and age() of app.js; every value is put in the page as text.
"use strict";

const SVG = "http://www.w3.org/2000/svg";
const SERIES = [["webhooks_accepted", "Webhooks accepted"], ["webhooks_quarantined", "Webhooks quarantined"],
  ["erp_postings", "ERP postings"], ["exceptions_opened", "Exceptions opened"], ["runs_ended", "Workflow runs ended"]];

function svg(tag, attrs = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  if (text !== undefined) node.textContent = String(text);
  return node;
}

function barChart(name, title, counts, starts, daily) {
  const width = 480, height = 120, top = 14, bottom = 18, max = Math.max(1, ...counts);
  const slot = width / counts.length;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": title,
    "data-series": name, "data-total": counts.reduce((a, b) => a + b, 0) });
  chart.append(svg("text", { x: 0, y: 10, class: "chart-max" }, `max ${max}`));
  counts.forEach((count, i) => {
    const barHeight = (height - top - bottom) * count / max;
    const bar = svg("rect", { x: i * slot + 1, y: height - bottom - barHeight, width: Math.max(slot - 2, 1),
      height: barHeight, class: "bar", "data-count": count });
    const label = new Date(starts[i]);
    bar.append(svg("title", {}, `${daily ? label.toISOString().slice(0, 10) : label.toISOString().slice(11, 16) + "Z"}: ${count}`));
    chart.append(bar);
  });
  chart.append(svg("line", { x1: 0, x2: width, y1: height - bottom, y2: height - bottom, class: "axis" }));
  chart.append(svg("text", { x: 0, y: height - 4, class: "chart-label" }, daily ? "7 days ago" : "24 h ago"));
  chart.append(svg("text", { x: width, y: height - 4, class: "chart-label", "text-anchor": "end" }, "now"));
  return h("figure", { class: "chart" }, h("figcaption", {}, title), chart);
}

function pct(value) { return value === null || value === undefined ? "-" : `${(value * 100).toFixed(1)}%`; }

function spread(d) { return `p50 ${age(d.p50_seconds) || "-"}, p95 ${age(d.p95_seconds) || "-"} (n=${d.count})`; }

function kpiRows(b, t) {
  const m = b.manual_intervention, r = b.reconciliation, q = b.customer_data_quality, rc = b.renewal_completion;
  const waiting = (d) => `${d.count}${d.count ? ` (oldest ${age(d.oldest_age_seconds)})` : ""}`;
  return [
    ["orders_pending_erp_posting", "Orders pending ERP posting", waiting(b.orders_pending_erp_posting)],
    ["invoices_awaiting_erp_sync", "Invoices awaiting ERP sync", waiting(b.invoices_awaiting_erp_sync)],
    ["payments_awaiting_erp_sync", "Payments awaiting ERP sync", waiting(b.payments_awaiting_erp_sync)],
    ["renewals_lacking_billing_alignment", "Renewals lacking billing alignment", b.renewals_lacking_billing_alignment],
    ["unresolved_identity_conflicts", "Unresolved identity conflicts", b.unresolved_identity_conflicts],
    ["open_exceptions", "Open exceptions by kind", Object.entries(m.open_by_kind).map(([k, v]) => `${k} ${v}`).join(", ") || "none"],
    ["manual_intervention", "Transactions needing intervention", `${m.needing_intervention} of ${m.transactions} (${pct(m.share)})`],
    ["invoice_posting_timeliness", "Invoice posting timeliness", spread(b.invoice_posting_timeliness)],
    ["o2c_won_to_invoiced", "Order to cash: won → first invoice posted", spread(b.order_to_cash_cycle.won_to_invoiced)],
    ["o2c_invoiced_to_paid", "Order to cash: first invoice posted → paid", spread(b.order_to_cash_cycle.invoiced_to_paid)],
    ["o2c_won_to_paid", "Order to cash: won → paid", spread(b.order_to_cash_cycle.won_to_paid)],
    ["renewal_completion", "Renewal completion rate", `${pct(rc.rate)} (${rc.completed} of ${rc.ended})`],
    ["reconciliation", "Reconciliation exceptions", `opened ${r.opened}, resolved ${r.resolved}, open ${r.open}; to resolve ${spread(r.time_to_resolve)}`],
    ["customer_data_quality", "Customer data quality", `${pct(q.share)} passing (${q.passed} of ${q.checked})`],
    ...Object.entries(t.webhooks).map(([s, w]) => [`webhooks_${s}`, `Webhooks ${s}`,
      `${w.received} received: accepted ${pct(w.accept_rate)}, ignored ${w.ignored}, quarantined ${w.quarantined} (${pct(w.quarantine_rate)})`]),
    ["event_lag", "Event lag (received → on the bus)", spread(t.event_lag)],
    ["workflow_backlog", "Workflow backlog", Object.entries(t.workflow_backlog).map(([k, v]) => `${k} ${v}`).join(", ") || "none"],
    ...Object.entries(t.sync_latency).map(([s, d]) => [`sync_latency_${s}`, `Sync latency ${s}`, spread(d)]),
    ["retry_volume", "Retry volume (failed queue deliveries)", [t.retry_volume.failed_deliveries,
      ...Object.entries(t.retry_volume.by_queue).map(([q, n]) => `${q} ${n}`)].join("; ")],
    ...Object.entries(t.api_error_rates).map(([v, e]) => [`api_errors_${v}`, `API error rate ${v}`,
      `${pct(e.error_rate)} (${e.errors} of ${e.calls} calls; throttled ${e.throttles})`]),
  ];
}

async function kpisPage(query) {
  const windowName = new URLSearchParams(query).get("window") === "7d" ? "7d" : "24h";
  const k = await api("GET", `/kpis?window=${windowName}`);
  const daily = windowName === "7d";
  const table = h("table", { id: "kpis" }, h("tbody", {}, kpiRows(k.business, k.technical).map(([id, label, value]) =>
    h("tr", { "data-kpi": id }, h("th", {}, label), h("td", {}, value)))));
  show(h("h1", {}, `KPIs — last ${windowName}`),
    h("p", {}, h("a", { href: "console#/kpis?window=24h" }, "24 h"), " · ", h("a", { href: "console#/kpis?window=7d" }, "7 d")),
    h("section", { class: "charts" }, SERIES.map(([name, title]) =>
      barChart(name, title, k.series[name], k.series.bucket_starts, daily))),
    table,
    h("section", {}, h("h2", {}, "Not measured yet"), h("ul", { id: "unavailable" },
      Object.entries(k.unavailable).map(([name, reason]) => h("li", { "data-kpi": name }, `${name}: ${reason}`)))));
}

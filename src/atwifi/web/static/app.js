// The live view: state and trace arrive as Server-Sent Events (/api/events); buttons call
// the control channel's verbs through POST /api/verb.
"use strict";

const $ = (sel) => document.querySelector(sel);

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c instanceof Node ? c : document.createTextNode(String(c ?? "")));
  return e;
}

function fill(tbody, rows) {
  tbody.replaceChildren(...rows);
}

function bar(used, capacity) {
  const pct = capacity ? Math.min(100, Math.round((100 * used) / capacity)) : 0;
  const inner = el("span", { class: "bar" });
  inner.style.width = pct + "%";
  return el("span", {}, el("span", { class: "barbox" }, inner), `${used}/${capacity}`);
}

async function callVerb(verb, args) {
  const r = await fetch("/api/verb", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ verb, args }),
  });
  const body = await r.json();
  $("#verb-result").textContent = `${verb} ${JSON.stringify(args)} -> ` +
    (body.ok ? JSON.stringify(body.result) : "error: " + body.error);
  return body;
}

function showState(s) {
  const r = s.radio || {};
  const wifi = [
    ["state", `${r.wifi_state} (${r.wifi_state_text || ""})`],
    ["radio", r.on ? `on, ${r.mode}` : "off"],
    ["SSID", r.ssid ?? "-"],
    ["BSSID", r.bssid ?? "-"],
    ["channel", r.channel ?? "-"],
    ["RSSI", r.rssi != null ? `${r.rssi} dBm` : "-"],
    ["IP", r.ip ?? "-"],
    ["netmask", r.netmask ?? "-"],
    ["gateway", r.gateway ?? "-"],
    ["DNS", r.dns ?? "-"],
    ["MAC", r.mac ?? "-"],
    ["uptime", `${s.uptime} s`],
  ];
  if (r.stations && r.stations.length) {
    wifi.push(["stations", r.stations.map((p) => `${p.peer}: ${p.mac} ${p.ip || ""}`).join(", ")]);
  }
  for (const [k, v] of Object.entries(s.endpoints || {})) wifi.push([`${k} server`, v]);
  fill($("#wifi tbody"), wifi.map(([k, v]) => el("tr", { "data-key": k }, el("th", {}, k), el("td", {}, v))));

  fill($("#aps tbody"), (s.aps || []).map((ap) =>
    el("tr", {},
      el("td", {}, ap.ssid), el("td", {}, ap.bssid), el("td", {}, ap.channel),
      el("td", {}, ap.rssi), el("td", {}, ap.security + (ap.present ? "" : " (gone)")),
      el("td", {},
        el("button", { onclick: () => callVerb("ap.set", { ap: ap.bssid, present: !ap.present }) },
          ap.present ? "hide" : "show"),
        el("button", { onclick: () => callVerb("ap.set", { ap: ap.bssid, rssi: ap.rssi > -80 ? -85 : -50 }) },
          ap.rssi > -80 ? "weaken" : "strengthen")))));

  const socks = [];
  for (const c of s.sockets.clients) {
    socks.push(el("tr", { class: "sock" }, el("td", {}, `client ${c.id}`), el("td", {}, c.peer),
      el("td", {}, c.kind + (c.connected ? "" : " (closed)")), el("td", {}, bar(c.unread, c.capacity))));
  }
  for (const sv of s.sockets.servers) {
    socks.push(el("tr", { class: "sock" }, el("td", {}, `server ${sv.id}`),
      el("td", {}, `port ${sv.port} (host ${sv.host_port})`), el("td", {}, sv.kind), el("td", {}, "")));
    for (const c of sv.clients) {
      socks.push(el("tr", { class: "sock" }, el("td", {}, `  ${sv.id}:${c.id}`), el("td", {}, c.peer),
        el("td", {}, c.kind), el("td", {}, bar(c.unread, c.capacity))));
    }
  }
  fill($("#sockets tbody"), socks);
  fill($("#files tbody"), (s.files || []).map((f) =>
    el("tr", {}, el("td", {}, f.volume), el("td", {}, f.name), el("td", {}, f.size))));
  fill($("#config tbody"), Object.entries(s.config || {}).map(([k, v]) =>
    el("tr", { "data-var": k }, el("td", {}, k), el("td", {}, v.value), el("td", {}, v.factory))));
  if (s.power) {
    $("#power-box").hidden = false;
    $("#power").textContent = JSON.stringify(s.power, null, 1);
  }
}

const MAX_RECORDS = 2000;
let lastSeq = 0;

function addRecords(recs) {
  const box = $("#trace");
  for (const r of recs) {
    if (r.seq <= lastSeq) continue;  // already shown (the snapshot and the stream overlap)
    lastSeq = r.seq;
    const cls = ["rec", r.dir, ...(r.marks || [])].join(" ");
    const arrow = { in: "\u2192", out: "\u2190", note: "\u00b7" }[r.dir] || "";
    box.append(el("div", { class: cls }, el("span", { class: "t" }, r.t.toFixed(3)), `${arrow} ${r.text}`));
  }
  while (box.childElementCount > MAX_RECORDS) box.firstElementChild.remove();
  if ($("#follow").checked) box.scrollTop = box.scrollHeight;
}

async function setupVerbs() {
  const r = await fetch("/api/verbs");
  const body = await r.json();
  const buttons = $("#buttons");
  for (const b of body.buttons) {
    buttons.append(el("button", { "data-verb": b.verb, onclick: () => callVerb(b.verb, b.args) }, b.label));
  }
  const select = $("#verb-name");
  for (const v of body.verbs) select.append(el("option", { value: v.verb, title: v.help }, v.usage));
  $("#verb-form").addEventListener("submit", (ev) => {
    ev.preventDefault();
    const args = {};
    for (const part of $("#verb-args").value.split(/\s+/).filter(Boolean)) {
      const i = part.indexOf("=");
      if (i > 0) args[part.slice(0, i)] = part.slice(i + 1);
    }
    callVerb(select.value, args);
  });
}

function connect() {
  const es = new EventSource("/api/events");
  es.addEventListener("open", () => { $("#conn").textContent = "live"; $("#conn").className = "badge on"; });
  es.addEventListener("error", () => { $("#conn").textContent = "reconnecting"; $("#conn").className = "badge off"; });
  es.addEventListener("state", (ev) => showState(JSON.parse(ev.data)));
  es.addEventListener("trace", (ev) => addRecords(JSON.parse(ev.data)));
}

async function start() {
  const recent = await (await fetch("/api/trace")).json();
  addRecords(recent);
  await setupVerbs();
  connect();
}

start();

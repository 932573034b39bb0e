// The draw page: pointer input on a canvas, sent as a PNG to /predict when the pen lifts.
"use strict";

const pad = document.getElementById("pad");
const ctx = pad.getContext("2d");
const result = document.getElementById("result");
const seen = document.getElementById("seen").getContext("2d");
let drawing = null;     // the pointer drawing now, with its last point
let strokes = 0;        // strokes drawn since the last clear
let inFlight = false;   // one request at a time; later strokes are sent when it returns
let pending = false;
let generation = 0;     // bumped by Clear, so answers for an old drawing are dropped
// A server started with --token answers 401 to the API: ask once, keep it for this tab.
const TOKEN_KEY = "edge-mnist-token";
let token = sessionStorage.getItem(TOKEN_KEY) || "";
let asking = null;      // the one prompt in progress, shared by concurrent requests

// fetch() with the access token; on 401 ask for it (once) and try again.
async function api(url, options) {
  const send = () => fetch(url, {
    ...options,
    headers: { ...(options && options.headers), ...(token ? { Authorization: "Bearer " + token } : {}) },
  });
  const tried = token;
  const response = await send();
  if (response.status !== 401) return response;
  asking = asking || Promise.resolve().then(() => {
    const given = window.prompt("This server needs an access token:", "");
    if (given) { token = given.trim(); sessionStorage.setItem(TOKEN_KEY, token); }
  }).finally(() => { asking = null; });
  await asking;
  return token && token !== tried ? send() : response;
}

function blank() {
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, pad.width, pad.height);
  ctx.strokeStyle = "#000";
  ctx.fillStyle = "#000";
  ctx.lineWidth = 18;
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
}

function point(e) {
  const r = pad.getBoundingClientRect();
  return [(e.clientX - r.left) * pad.width / r.width, (e.clientY - r.top) * pad.height / r.height];
}

pad.addEventListener("pointerdown", (e) => {
  if (drawing || (e.pointerType === "mouse" && e.button !== 0)) return;
  e.preventDefault();
  try { pad.setPointerCapture(e.pointerId); } catch (err) { /* synthetic pointers cannot be captured */ }
  const [x, y] = point(e);
  drawing = { id: e.pointerId, x, y };
  ctx.beginPath();
  ctx.arc(x, y, ctx.lineWidth / 2, 0, 2 * Math.PI);
  ctx.fill();
});

pad.addEventListener("pointermove", (e) => {
  if (!drawing || e.pointerId !== drawing.id) return;
  const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [];
  for (const ev of events.length ? events : [e]) {
    const [x, y] = point(ev);
    ctx.beginPath();
    ctx.moveTo(drawing.x, drawing.y);
    ctx.lineTo(x, y);
    ctx.stroke();
    drawing.x = x;
    drawing.y = y;
  }
});

function lift(e) {
  if (!drawing || e.pointerId !== drawing.id) return;
  drawing = null;
  strokes += 1;
  result.dataset.strokes = String(strokes);
  send();
}
pad.addEventListener("pointerup", lift);
pad.addEventListener("pointercancel", lift);

function send() {
  if (inFlight) { pending = true; return; }
  const upTo = strokes;
  const gen = generation;
  inFlight = true;
  result.dataset.state = "busy";
  pad.toBlob((blob) => classify(blob, "image/png").then((ok) => {
    if (gen === generation && ok) result.dataset.shown = String(upTo);
  }).finally(() => {
    inFlight = false;
    if (pending && gen === generation) { pending = false; send(); return; }
    pending = false;
    result.dataset.state = "done";
  }), "image/png");
}

async function classify(body, type) {
  const gen = generation;
  const started = performance.now();
  let answer;
  try {
    const response = await api("/predict?preprocessed=1", {
      method: "POST", headers: { "Content-Type": type || "application/octet-stream" }, body,
    });
    answer = await response.json();
    if (gen !== generation) return false;
    if (!response.ok) { showError(answer); return false; }
  } catch (err) {
    if (gen === generation) showError({ error: "cannot reach the server: " + err.message });
    return false;
  }
  show(answer, performance.now() - started);
  return true;
}

function show(answer, roundTrip) {
  // An uncertain answer (the drawing may not be one digit) is shown greyed, with the reason.
  const doubt = answer.uncertain && answer.uncertain[0] ? answer.reasons[0] : "";
  document.getElementById("error").textContent = doubt ? "Uncertain: " + doubt : "";
  document.getElementById("digit").textContent = String(answer.digits[0]);
  document.getElementById("digit").classList.toggle("uncertain", Boolean(doubt));
  const probs = answer.probabilities[0];
  const bars = document.getElementById("bars");
  bars.replaceChildren(...probs.map((p, d) => {
    const li = document.createElement("li");
    if (d === answer.digits[0]) li.className = "top";
    const name = document.createElement("span");
    name.textContent = String(d);
    const bar = document.createElement("span");
    bar.className = "bar";
    const fill = document.createElement("span");
    fill.style.width = (100 * p).toFixed(1) + "%";
    bar.append(fill);
    const value = document.createElement("span");
    value.textContent = (100 * p).toFixed(1) + "%";
    li.append(name, bar, value);
    return li;
  }));
  document.getElementById("latency").textContent =
    `server ${answer.latency_ms.toFixed(1)} ms · round trip ${roundTrip.toFixed(0)} ms · ${answer.backend}`;
  drawSeen(answer.preprocessed[0]);
}

function drawSeen(rows) {
  const image = seen.createImageData(28, 28);
  rows.flat().forEach((v, i) => {
    image.data.set([v, v, v, 255], 4 * i);
  });
  seen.putImageData(image, 0, 0);
}

function showError(answer) {
  document.getElementById("digit").textContent = "?";
  document.getElementById("bars").replaceChildren();
  document.getElementById("latency").textContent = "";
  seen.clearRect(0, 0, 28, 28);
  document.getElementById("error").textContent =
    answer.error + (answer.fix ? " " + answer.fix : "");
}

document.getElementById("clear").addEventListener("click", () => {
  generation += 1;
  strokes = 0;
  pending = false;
  blank();
  Object.assign(result.dataset, { strokes: "0", shown: "0", state: "idle" });
  document.getElementById("digit").textContent = "–";
  document.getElementById("bars").replaceChildren();
  document.getElementById("latency").textContent = "";
  document.getElementById("error").textContent = "";
  seen.clearRect(0, 0, 28, 28);
});

document.getElementById("upload").addEventListener("change", (e) => {
  const file = e.target.files[0];
  if (!file) return;
  generation += 1;
  result.dataset.state = "busy";
  classify(file, file.type).finally(() => { result.dataset.state = "done"; });
  e.target.value = "";
});

async function loadInfo() {
  try {
    const response = await api("/info");
    const info = await response.json();
    if (!response.ok) throw new Error(info.error);
    const m = info.manifest;
    const accuracy = m && typeof m.test_accuracy === "number"
      ? ` · test accuracy ${(100 * m.test_accuracy).toFixed(2)}%` : "";
    document.getElementById("model").textContent =
      `${info.path.split("/").pop()} · ${info.format} on ${info.backend} ${info.backend_version}` +
      `${accuracy} · sha256 ${info.sha256.slice(0, 12)}…`;
  } catch (err) {
    document.getElementById("model").textContent = "model info unavailable";
  }
}

blank();
loadInfo();

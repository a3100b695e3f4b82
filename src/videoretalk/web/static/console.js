// videoretalk console: one page over the public DashScope-compatible API.
// Every request below is one a script or the dashscope SDK could make with the
// same key; nothing here is private to the browser. Data from the server is only
// ever written with textContent, never parsed as HTML.
"use strict";

const API = "/api/v1";
const SUBMIT_PATH = API + "/services/aigc/image2video/video-synthesis";
const KEY_SLOT = "videoretalk.apiKey";
const POLL_MS = 1000;          // task view, while PENDING or RUNNING
const LIST_POLL_MS = 4000;     // task list, while any task in it is active
const ACTIVE = new Set(["PENDING", "RUNNING"]);
const STAGE_NAMES = {
  starting: "Starting", download: "Fetching inputs", validate: "Checking the files", analyse: "Analysing the face",
  render: "Rendering", done: "Finishing", store: "Saving the result",
};
// What to do about an error, where the server's own message does not already say.
const HINTS = {
  InvalidApiKey: "Check the key for typos, or ask your operator for a new one.",
  InvalidURL: "Use a public http(s) link the server can download, or upload the file instead.",
  "InvalidURL.Timeout": "The server could not download it in time; upload the file instead.",
  "InvalidURL.ConnectionRefused": "The server could not reach that address; upload the file instead.",
  Throttling: "Wait for a running task to finish (or cancel a pending one), then submit again.",
  "InvalidFile.Format": "Convert it to one of the formats listed under the input.",
  "InvalidFile.Openerror": "The file looks damaged; export it again and retry.",
  "InvalidFile.FaceNotMach": "Use a reference photo of a person who appears in the video.",
  InternalError: "This is the server's fault, not your files'; submit again.",
};

const $ = (id) => document.getElementById(id);
const state = { key: "", viewing: null, pollTimer: 0, listTimer: 0, originals: new Map() };

class ApiError extends Error {
  constructor(code, message) { super(message); this.code = code; }
}

// -- talking to the API -------------------------------------------------------
async function api(path, { method = "GET", headers = {}, body } = {}) {
  let response;
  try {
    response = await fetch(path, {
      method, body, headers: { Authorization: "Bearer " + state.key, ...headers },
    });
  } catch (err) {
    throw new ApiError("NetworkError", "The server did not answer; check that it is running.");
  }
  let data = {};
  try { data = await response.json(); } catch (err) { /* an empty or non-JSON body */ }
  if (!response.ok) {
    throw new ApiError(data.code || "HTTP " + response.status, data.message || response.statusText);
  }
  return data;
}

function describe(err) {
  const code = err.code || "Error";
  const hint = HINTS[code] || "";
  return { code, message: err.message || "", hint };
}

function showError(el, err) {
  if (!err) { el.hidden = true; el.replaceChildren(); return; }
  const { code, message, hint } = describe(err);
  const strong = document.createElement("strong");
  strong.textContent = code;
  const parts = [strong, document.createTextNode(" — " + message)];
  if (hint) {
    const tip = document.createElement("span");
    tip.className = "tip";
    tip.textContent = hint;
    parts.push(tip);
  }
  el.replaceChildren(...parts);
  el.hidden = false;
}

// A file goes up the way dashscope's OssUtils.upload sends it: ask for a signed
// policy, POST the form to upload_host, then refer to it as oss://<dir>/<name>.
async function upload(file, onProgress) {
  const { data } = await api(API + "/uploads?action=getPolicy&model=videoretalk");
  const name = (file.name || "file").replace(/[^A-Za-z0-9._-]+/g, "_").slice(-100);
  const key = data.upload_dir + "/" + name;
  const form = new FormData();
  form.append("OSSAccessKeyId", data.oss_access_key_id);
  form.append("Signature", data.signature);
  form.append("policy", data.policy);
  form.append("key", key);
  form.append("x-oss-object-acl", data.x_oss_object_acl);
  form.append("x-oss-forbid-overwrite", data.x_oss_forbid_overwrite);
  form.append("success_action_status", "200");
  form.append("file", file);  // last, as OSS requires
  await new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open("POST", data.upload_host);
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      if (xhr.status < 300) return resolve();
      let body = {};
      try { body = JSON.parse(xhr.responseText); } catch (err) { /* not JSON */ }
      reject(new ApiError(body.code || "HTTP " + xhr.status, body.message || "upload failed"));
    };
    xhr.onerror = () => reject(new ApiError("NetworkError", "The upload was interrupted."));
    xhr.send(form);
  });
  return "oss://" + key;
}

// -- signing in -----------------------------------------------------------------
async function signIn(key, remember) {
  state.key = key;
  await refreshList();  // the cheapest authenticated call: proves the key works
  (remember ? localStorage : sessionStorage).setItem(KEY_SLOT, key);
  $("key-hint").textContent = "Key " + key.slice(0, 5) + "…" + key.slice(-4);
  $("who").hidden = false;
  $("sign-in").hidden = true;
  $("workspace").hidden = false;
}

function signOut() {
  localStorage.removeItem(KEY_SLOT);
  sessionStorage.removeItem(KEY_SLOT);
  location.reload();
}

// -- the new-task form ------------------------------------------------------------
const FIELDS = {
  video: { file: "video-file", url: "video-url", input: "video_url", required: true },
  audio: { file: "audio-file", url: "audio-url", input: "audio_url", required: true },
  image: { file: "image-file", url: "image-url", input: "ref_image_url", required: false },
};

function formatBytes(n) {
  return n >= 1048576 ? (n / 1048576).toFixed(1) + " MB" : Math.max(1, Math.round(n / 1024)) + " KB";
}

function showChosen(field) {
  const input = $(FIELDS[field].file);
  const zone = input.closest(".zone");
  const file = input.files[0];
  zone.classList.toggle("chosen", Boolean(file));
  zone.querySelector(".zone-text").textContent = file
    ? file.name + " · " + formatBytes(file.size)
    : zone.dataset.empty;
}

function wireDropZones() {
  const form = $("task-form");
  for (const set of form.querySelectorAll(".drop")) {
    const field = set.dataset.field;
    const zone = set.querySelector(".zone");
    zone.dataset.empty = zone.querySelector(".zone-text").textContent;
    $(FIELDS[field].file).addEventListener("change", () => showChosen(field));
    set.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
    set.addEventListener("dragleave", () => zone.classList.remove("over"));
  }
  // Files dropped anywhere on the form go to the input matching their type; a file
  // of unknown type goes to the input it was dropped on.
  form.addEventListener("dragover", (e) => e.preventDefault());
  form.addEventListener("drop", (e) => {
    e.preventDefault();
    const target = e.target.closest ? e.target.closest(".drop") : null;
    for (const file of e.dataTransfer.files) {
      const set = [...form.querySelectorAll(".drop")].find(
        (s) => file.type.startsWith(s.dataset.accept)) || target;
      if (!set) continue;
      set.querySelector(".zone").classList.remove("over");
      const transfer = new DataTransfer();
      transfer.items.add(file);
      $(FIELDS[set.dataset.field].file).files = transfer.files;
      showChosen(set.dataset.field);
    }
  });
}

async function submitTask(event) {
  event.preventDefault();
  const button = $("submit");
  const status = $("submit-status");
  showError($("submit-error"), null);
  const input = {};
  let original = null;
  button.disabled = true;
  try {
    for (const [field, spec] of Object.entries(FIELDS)) {
      const file = $(spec.file).files[0];
      const url = $(spec.url).value.trim();
      if (file) {
        input[spec.input] = await upload(file, (f) => {
          status.textContent = "Uploading " + field + "… " + Math.round(f * 100) + "%";
        });
        if (field === "video") original = URL.createObjectURL(file);
      } else if (url) {
        input[spec.input] = url;
        if (field === "video" && /^https?:/i.test(url)) original = url;
      } else if (spec.required) {
        throw new ApiError("InvalidParameter",
          "Choose a " + field + " file or paste its URL (input." + spec.input + " is required).");
      }
    }
    status.textContent = "Submitting…";
    const body = JSON.stringify({
      model: "videoretalk", input,
      parameters: { video_extension: $("video-extension").checked },
    });
    const reply = await api(SUBMIT_PATH, {
      method: "POST", body,
      headers: { "Content-Type": "application/json", "X-DashScope-Async": "enable",
                 "X-DashScope-OssResourceResolve": "enable" },
    });
    const taskId = reply.output.task_id;
    if (original) state.originals.set(taskId, original);
    status.textContent = "";
    openTask(taskId);
    refreshList();
  } catch (err) {
    status.textContent = "";
    showError($("submit-error"), err);
  } finally {
    button.disabled = false;
  }
}

// -- one task ---------------------------------------------------------------------
function parseTime(text) {  // the API's "2025-09-11 20:15:29.887"
  return text ? new Date(text.replace(" ", "T")).getTime() : NaN;
}

function formatSeconds(s) {
  if (!Number.isFinite(s)) return "";
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + " s";
  return Math.floor(s / 60) + " min " + Math.round(s % 60) + " s";
}

function openTask(taskId) {
  clearTimeout(state.pollTimer);
  state.viewing = taskId;
  $("task").hidden = false;
  $("task-id").textContent = taskId;
  $("task-status").textContent = "…";
  $("result").hidden = true;
  $("progress-box").hidden = true;
  showError($("task-error"), null);
  pollTask(taskId, null);
  $("task").scrollIntoView({ behavior: "smooth", block: "start" });
}

async function pollTask(taskId, lastStatus) {
  if (state.viewing !== taskId) return;
  let body;
  try {
    body = await api(API + "/tasks/" + encodeURIComponent(taskId));
  } catch (err) {
    showError($("task-error"), err);
    state.pollTimer = setTimeout(() => pollTask(taskId, lastStatus), POLL_MS * 3);
    return;
  }
  if (state.viewing !== taskId) return;
  const out = body.output;
  renderTask(out, body.usage);
  const row = $("task-list").querySelector(`li[data-task-id="${CSS.escape(taskId)}"] .took`);
  if (row && out.progress) row.textContent = progressLine(out.task_status, out.progress);
  if (out.task_status !== lastStatus && lastStatus !== null) refreshList();
  if (ACTIVE.has(out.task_status)) {
    state.pollTimer = setTimeout(() => pollTask(taskId, out.task_status), POLL_MS);
  }
}

function renderTask(out, usage) {
  const status = out.task_status;
  const pill = $("task-status");
  pill.textContent = status;
  pill.dataset.status = status;
  const took = (parseTime(out.end_time) - parseTime(out.submit_time)) / 1000;
  $("task-times").textContent = "Submitted " + (out.submit_time || "").slice(0, 19)
    + (Number.isFinite(took) ? " · took " + formatSeconds(took) : "");

  const box = $("progress-box");
  box.hidden = !ACTIVE.has(status);
  if (ACTIVE.has(status)) {
    const p = out.progress || { stage: status === "PENDING" ? "queued" : "starting", percent: 0 };
    const percent = Math.max(0, Math.min(100, Number(p.percent) || 0));
    $("progress-fill").style.width = percent + "%";
    $("progress").setAttribute("aria-valuenow", String(Math.round(percent)));
    $("progress-text").textContent = progressLine(status, p);
  }

  showError($("task-error"), status === "FAILED"
    ? new ApiError(out.code || "Failed", out.message || "") : null);
  if (status === "CANCELED") {
    showError($("task-error"), new ApiError("Canceled", "This task was canceled before it started."));
  }
  if (status === "UNKNOWN") {
    showError($("task-error"), new ApiError("UNKNOWN", "No such task for this API key."));
  }

  const result = $("result");
  if (status === "SUCCEEDED" && out.video_url && result.hidden) {
    const video = $("result-video");
    video.src = out.video_url;
    $("download").href = out.video_url;
    $("download").setAttribute("download", out.task_id + ".mp4");
    const original = state.originals.get(out.task_id);
    $("original-figure").hidden = !original;
    if (original) $("original-video").src = original;
    $("usage").textContent = usage ? "Output " + formatSeconds(usage.video_duration)
      + " of video (" + usage.video_ratio + ")" : "";
    $("report").textContent = "Quality report: none for this task (the service does not "
      + "produce per-task reports yet; run `videoretalk eval` on the result).";
    result.hidden = false;
  }
}

function progressLine(status, progress) {
  if (status === "PENDING") return "Waiting for a worker";
  const percent = Math.max(0, Math.min(100, Number(progress.percent) || 0));
  return (STAGE_NAMES[progress.stage] || progress.stage) + " · " + Math.round(percent) + "%";
}

// -- the task list ------------------------------------------------------------------
async function refreshList() {
  clearTimeout(state.listTimer);
  const body = await api(API + "/tasks?page_no=1&page_size=20");
  showError($("list-error"), null);
  const list = $("task-list");
  list.replaceChildren(...body.tasks.map(taskRow));
  $("no-tasks").hidden = body.tasks.length > 0;
  if (body.tasks.some((t) => ACTIVE.has(t.task_status))) {
    state.listTimer = setTimeout(() => refreshList().catch(
      (err) => showError($("list-error"), err)), LIST_POLL_MS);
  }
}

function cell(cls, text) {
  const span = document.createElement("span");
  span.className = cls;
  span.textContent = text;
  return span;
}

function taskRow(task) {
  const li = document.createElement("li");
  li.dataset.taskId = task.task_id;
  const status = cell("pill", task.task_status);
  status.dataset.status = task.task_status;
  const took = (parseTime(task.end_time) - parseTime(task.submit_time)) / 1000;
  let detail = Number.isFinite(took) ? "took " + formatSeconds(took) : "";
  if (ACTIVE.has(task.task_status)) {
    detail = progressLine(task.task_status, task.progress || { stage: "starting", percent: 0 });
  }
  const open = document.createElement("button");
  open.type = "button";
  open.className = "link";
  open.textContent = task.task_id.slice(0, 8);
  open.title = "Show task " + task.task_id;
  open.addEventListener("click", () => openTask(task.task_id));
  const parts = [status, open, cell("when", (task.submit_time || "").slice(5, 19)),
                 cell("took", detail)];
  if (task.code) {
    const err = cell("row-error", task.code + ": " + (task.message || ""));
    parts.push(err);
  }
  if (task.task_status === "PENDING") {
    const cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "small";
    cancel.textContent = "Cancel";
    cancel.addEventListener("click", () => cancelTask(task.task_id, cancel));
    parts.push(cancel);
  }
  li.replaceChildren(...parts);
  return li;
}

async function cancelTask(taskId, button) {
  button.disabled = true;
  try {
    await api(API + "/tasks/" + encodeURIComponent(taskId) + "/cancel", { method: "POST" });
  } catch (err) {
    showError($("list-error"), err);
  }
  await refreshList().catch((err) => showError($("list-error"), err));
  if (state.viewing === taskId) openTask(taskId);
}

// -- start ----------------------------------------------------------------------------
function start() {
  $("sign-in-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    showError($("sign-in-error"), null);
    try {
      await signIn($("api-key").value.trim(), $("remember").checked);
    } catch (err) {
      state.key = "";
      showError($("sign-in-error"), err);
    }
  });
  $("sign-out").addEventListener("click", signOut);
  $("task-form").addEventListener("submit", submitTask);
  $("refresh").addEventListener("click", () => refreshList().catch(
    (err) => showError($("list-error"), err)));
  wireDropZones();
  const saved = sessionStorage.getItem(KEY_SLOT) || localStorage.getItem(KEY_SLOT);
  if (saved) {
    signIn(saved, Boolean(localStorage.getItem(KEY_SLOT))).catch((err) => {
      state.key = "";  // a revoked or mistyped key: forget it and ask again
      localStorage.removeItem(KEY_SLOT);
      sessionStorage.removeItem(KEY_SLOT);
      showError($("sign-in-error"), err);
    });
  }
}

start();

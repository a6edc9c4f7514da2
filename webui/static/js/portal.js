// VirtStick portals: live status (from live.js's stream, or by polling when a page has no
// stream), the tasks panel, dialogs and table search.
"use strict";

const POLL_MS = 2000;
const TASKS_SHOWN = 8;
const STOPPED = new Set(["down", "suspended", "image_locked", "unassigned"]);

function csrf() {
  return document.querySelector('meta[name="csrf-token"]').content;
}

function allowed(status, when) {
  if (when === "running") return !STOPPED.has(status);
  return status === when;
}

const WORDS = { wait_for_launch: "Powering up", reboot_in_progress: "Rebooting" };

function label(status) {
  if (WORDS[status]) return WORDS[status];
  const text = status.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function applyVm(vm) {
  document.querySelectorAll(`[data-vm-status="${vm.id}"]`).forEach((el) => {
    el.className = `status s-${vm.status}`;
    el.textContent = vm.label || label(vm.status);
    delete el.dataset.expected;
  });
  document.querySelectorAll(`[data-vm-host="${vm.id}"]`).forEach((el) => {
    el.textContent = vm.host || "—";
  });
  document.querySelectorAll(`[data-vm="${vm.id}"][data-when]`).forEach((el) => {
    const ok = allowed(vm.status, el.dataset.when);
    if (el.tagName === "A") {
      if (ok) el.removeAttribute("aria-disabled");
      else el.setAttribute("aria-disabled", "true");
    } else {
      el.disabled = !ok;
    }
  });
}

const knownJobs = new Map();

function clock(seconds) {
  return new Date(seconds * 1000).toLocaleTimeString();
}

function lasted(seconds) {
  const s = Math.max(0, Math.round(seconds));
  return s < 60 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

// When it started, and for how long it has run (or ran).
function jobTimes(job) {
  if (!job.start_time) return "";
  const end = job.end_time || Date.now() / 1000;
  return `${job.end_time ? "Ran" : "Running"} ${lasted(end - job.start_time)}, from ${clock(job.start_time)}`;
}

// A job changed (live.js) or the poll brought the latest ones: the panel shows the newest.
function applyJob(job) {
  knownJobs.set(job.id, job);
  const shown = [...knownJobs.values()].sort((a, b) =>
    (a.status === "started" ? 0 : 1) - (b.status === "started" ? 0 : 1)
    || b.start_time - a.start_time).slice(0, TASKS_SHOWN);
  knownJobs.clear();
  shown.forEach((j) => knownJobs.set(j.id, j));
  renderJobs(shown);
  document.querySelectorAll(`[data-job-row="${job.id}"]`).forEach((row) => {
    const state = row.querySelector("[data-job-status]");
    if (state) {
      state.className = `status s-${job.status}`;
      state.textContent = label(job.status);
    }
    const bar = row.querySelector(".meter > span");
    if (bar) bar.style.width = `${job.progress}%`;
    const ended = row.querySelector("[data-job-ended]");
    if (ended && job.end_time) ended.textContent = new Date(job.end_time * 1000).toLocaleString();
  });
}

function renderJobs(jobs) {
  const box = document.querySelector("[data-tasks]");
  const count = document.querySelector("[data-running-count]");
  if (!box) return;
  const running = jobs.filter((j) => j.status === "started").length;
  if (count) {
    count.textContent = running;
    count.hidden = running === 0;
  }
  // A long action shows its progress by itself, unless the panel was closed by hand.
  const panel = document.getElementById("tasks");
  if (running > 0 && panel && panel.hidden && !panel.dataset.closedByUser) {
    panel.hidden = false;
    const toggle = document.querySelector("[data-toggle-tasks]");
    if (toggle) toggle.setAttribute("aria-expanded", "true");
  }
  if (!jobs.length) return;
  box.replaceChildren(...jobs.map((job) => {
    const row = document.createElement("div");
    row.className = "task";
    row.dataset.job = job.id;
    const name = document.createElement("span");
    name.textContent = job.description;
    const state = document.createElement("span");
    state.className = `status s-${job.status}`;
    state.textContent = job.status === "started" ? `${job.progress}%` : label(job.status);
    const meter = document.createElement("div");
    meter.className = "meter";
    const bar = document.createElement("span");
    bar.style.width = `${job.progress}%`;
    meter.append(bar);
    const times = document.createElement("div");
    times.className = "task-times muted";
    times.dataset.jobTimes = job.id;
    times.textContent = jobTimes(job);
    row.append(name, state, meter, times);
    if (job.error) {
      const err = document.createElement("div");
      err.className = "error";
      err.textContent = job.error;
      row.append(err);
    }
    return row;
  }));
}

// A running job's time goes on while nothing else changes.
function tickJobTimes() {
  knownJobs.forEach((job) => {
    if (job.status !== "started") return;
    document.querySelectorAll(`[data-job-times="${job.id}"]`).forEach((el) => {
      el.textContent = jobTimes(job);
    });
  });
}

let polling = null;

async function pollOnce(path = "/status/vms.json") {
  try {
    const response = await fetch(path, { headers: { Accept: "application/json" } });
    if (response.status === 401 || response.redirected) return false;
    if (response.ok) {
      const data = await response.json();
      (data.vms || []).forEach(applyVm);
      knownJobs.clear();
      data.jobs.forEach((j) => knownJobs.set(j.id, j));
      renderJobs(data.jobs);
    }
  } catch (err) {
    // The service may be restarting: try again at the next tick.
  }
  return true;
}

// Without a live stream (refused, or no EventSource), the page asks every few seconds.
function startPolling() {
  if (polling !== null) return;
  const tick = async () => {
    polling = "asking";
    const again = await pollOnce();
    polling = again && polling !== null ? window.setTimeout(tick, POLL_MS) : null;
  };
  tick();
}

function stopPolling() {
  if (polling !== null && polling !== "asking") window.clearTimeout(polling);
  polling = null;
}

function setupDialogs() {
  document.querySelectorAll("[data-open-dialog]").forEach((button) => {
    button.addEventListener("click", () => {
      document.getElementById(button.dataset.openDialog).showModal();
    });
  });
  document.querySelectorAll("[data-close-dialog]").forEach((button) => {
    button.addEventListener("click", () => button.closest("dialog").close());
  });
  document.querySelectorAll("dialog[data-open-now]").forEach((d) => d.showModal());
  if (window.location.hash === "#new") {
    const d = document.getElementById("new-vm");
    if (d) d.showModal();
  }
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
}

function setupTemplateChoice() {
  const select = document.querySelector("[data-template-select]");
  if (!select) return;
  const update = () => {
    const option = select.selectedOptions[0];
    const blank = option && option.dataset.blank === "yes";
    document.querySelectorAll("[data-blank-only]").forEach((el) => { el.hidden = !blank; });
    const memory = document.getElementById("vm-memory");
    const cpus = document.getElementById("vm-cpus");
    if (option && memory) memory.placeholder = `${option.dataset.memory} (template)`;
    if (option && cpus) cpus.placeholder = `${option.dataset.cpus} (template)`;
  };
  select.addEventListener("change", update);
  update();
}

function setupFilter() {
  document.querySelectorAll("[data-filter-table]").forEach((input) => {
    const table = document.getElementById(input.dataset.filterTable);
    input.addEventListener("input", () => {
      const needle = input.value.trim().toLowerCase();
      table.querySelectorAll("tbody tr[data-search]").forEach((row) => {
        row.hidden = needle !== "" && !row.dataset.search.includes(needle);
      });
    });
  });
}

function setupTasks() {
  const toggle = document.querySelector("[data-toggle-tasks]");
  const panel = document.getElementById("tasks");
  if (!toggle || !panel) return;
  toggle.addEventListener("click", () => {
    panel.hidden = !panel.hidden;
    if (panel.hidden) panel.dataset.closedByUser = "yes";
    toggle.setAttribute("aria-expanded", String(!panel.hidden));
  });
}

function setupTimes() {
  document.querySelectorAll("time[data-epoch]").forEach((el) => {
    const when = new Date(Number(el.dataset.epoch) * 1000);
    el.textContent = when.toLocaleString();
    el.dateTime = when.toISOString();
  });
}

function setupConsoleLinks() {
  document.querySelectorAll("a[data-console]").forEach((link) => {
    link.addEventListener("click", (event) => {
      if (link.getAttribute("aria-disabled") === "true") event.preventDefault();
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setupDialogs();
  setupTemplateChoice();
  setupFilter();
  setupTasks();
  setupTimes();
  setupConsoleLinks();
  window.setInterval(tickJobTimes, 1000);
  const live = document.querySelector('meta[name="virtstick-live"]') && window.EventSource;
  if (document.querySelector("[data-tasks]") && !live) startPolling();
});

window.virtstick = { csrf, label, applyVm, applyJob, pollOnce, startPolling, stopPolling };

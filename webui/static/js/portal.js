// VirtStick portals: live status by polling, the tasks panel, dialogs and table search.
"use strict";

const POLL_MS = 2000;
const STOPPED = new Set(["down", "suspended", "image_locked", "unassigned"]);

function csrf() {
  return document.querySelector('meta[name="csrf-token"]').content;
}

function allowed(status, when) {
  if (when === "running") return !STOPPED.has(status);
  return status === when;
}

function label(status) {
  const text = status.replace(/_/g, " ");
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function applyVm(vm) {
  document.querySelectorAll(`[data-vm-status="${vm.id}"]`).forEach((el) => {
    el.className = `status s-${vm.status}`;
    el.textContent = label(vm.status);
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
    row.append(name, state, meter);
    if (job.error) {
      const err = document.createElement("div");
      err.className = "error";
      err.textContent = job.error;
      row.append(err);
    }
    return row;
  }));
}

async function poll() {
  try {
    const response = await fetch("/status/vms.json", { headers: { Accept: "application/json" } });
    if (response.status === 401 || response.redirected) return;
    if (response.ok) {
      const data = await response.json();
      data.vms.forEach(applyVm);
      renderJobs(data.jobs);
    }
  } catch (err) {
    // The service may be restarting: try again at the next tick.
  }
  window.setTimeout(poll, POLL_MS);
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
  if (document.querySelector("[data-tasks]")) poll();
});

window.virtstick = { csrf };

// VirtStick portals: "More" menus, dialogs opened for one row, the VM list's ticks and bulk
// actions, and the message when a search hides every row. Everything here also works as
// plain HTML: a menu shows its items as a list, a bulk Remove asks on its own page.
"use strict";

function setupMenus() {
  document.querySelectorAll("[data-menu]").forEach((menu) => {
    const button = menu.querySelector("[data-menu-button]");
    const list = menu.querySelector(".menu-list");
    if (!button || !list) return;
    menu.classList.add("menu-popup");
    button.hidden = false;
    list.hidden = true;
    const items = () => [...list.querySelectorAll("button, a[href]")].filter((el) => !el.disabled
      && el.getAttribute("aria-disabled") !== "true");
    const open = (focusFirst) => {
      list.hidden = false;
      button.setAttribute("aria-expanded", "true");
      if (focusFirst && items().length) items()[0].focus();
    };
    const close = (refocus) => {
      list.hidden = true;
      button.setAttribute("aria-expanded", "false");
      if (refocus) button.focus();
    };
    button.addEventListener("click", () => (list.hidden ? open(false) : close(false)));
    button.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown") { event.preventDefault(); open(true); }
      else if (event.key === "Escape" && !list.hidden) { event.preventDefault(); close(true); }
    });
    list.addEventListener("keydown", (event) => {
      const found = items();
      const at = found.indexOf(document.activeElement);
      if (event.key === "Escape") { event.preventDefault(); close(true); }
      else if (event.key === "ArrowDown" && found.length) {
        event.preventDefault(); found[(at + 1) % found.length].focus();
      } else if (event.key === "ArrowUp" && found.length) {
        event.preventDefault(); found[(at - 1 + found.length) % found.length].focus();
      } else if (event.key === "Home" && found.length) { event.preventDefault(); found[0].focus(); }
      else if (event.key === "End" && found.length) { event.preventDefault(); found[found.length - 1].focus(); }
    });
    // An item opening a dialog closes the menu first; leaving the menu closes it.
    list.addEventListener("click", (event) => {
      if (event.target.closest("[data-open-dialog]")) close(false);
    });
    document.addEventListener("click", (event) => {
      if (!menu.contains(event.target)) close(false);
    });
    menu.addEventListener("focusout", (event) => {
      if (event.relatedTarget && !menu.contains(event.relatedTarget)) close(false);
    });
  });
}

// A row's button opens a shared dialog for that row: data-fill names the fields to set.
function setupDialogFill() {
  document.querySelectorAll("[data-open-dialog][data-fill]").forEach((button) => {
    button.addEventListener("click", () => {
      const dialog = document.getElementById(button.dataset.openDialog);
      const values = JSON.parse(button.dataset.fill);
      Object.entries(values).forEach(([name, value]) => {
        const field = dialog.querySelector(`[name="${name}"]`);
        if (field) field.value = value;
      });
      const alert = dialog.querySelector("[role=alert]");
      if (alert) alert.remove();  // a refusal of another row's form
    });
  });
}

function setupBulk() {
  const form = document.querySelector("form[data-bulk]");
  if (!form) return;
  const picks = () => [...form.querySelectorAll("input[data-pick]")];
  const all = form.querySelector("[data-pick-all]");
  const count = form.querySelector("[data-bulk-count]");
  const update = () => {
    const ticked = picks().filter((p) => p.checked);
    form.querySelectorAll("[data-bulk-button]").forEach((b) => { b.disabled = !ticked.length; });
    count.textContent = ticked.length ? `${ticked.length} VM${ticked.length > 1 ? "s" : ""} ticked`
      : "Tick VMs to act on several at once.";
    if (all) {
      const shown = picks().filter((p) => !p.closest("tr").hidden);
      all.checked = shown.length > 0 && shown.every((p) => p.checked);
      all.indeterminate = !all.checked && shown.some((p) => p.checked);
    }
  };
  form.addEventListener("change", update);
  if (all) {
    all.addEventListener("change", () => {
      picks().forEach((p) => { if (!p.closest("tr").hidden) p.checked = all.checked; });
      update();
    });
  }
  const remove = form.querySelector("[data-bulk-remove]");
  const dialog = document.getElementById("bulk-remove");
  if (remove && dialog) {
    remove.addEventListener("click", (event) => {
      event.preventDefault();
      const list = dialog.querySelector("[data-bulk-remove-list]");
      const ticked = picks().filter((p) => p.checked);
      list.replaceChildren(...ticked.map((p) => {
        const item = document.createElement("li");
        item.textContent = p.dataset.name;
        const hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = "vm_id";
        hidden.value = p.value;
        item.append(hidden);
        return item;
      }));
      dialog.querySelector("[data-bulk-remove-count]").textContent = ticked.length;
      dialog.showModal();
    });
  }
  update();
}

function setupNoMatch() {
  document.querySelectorAll("[data-filter-table]").forEach((input) => {
    const table = document.getElementById(input.dataset.filterTable);
    const message = table && table.querySelector("[data-no-match]");
    if (!message) return;
    input.addEventListener("input", () => {
      const rows = [...table.querySelectorAll("tbody tr[data-search]")];
      message.hidden = !rows.length || rows.some((row) => !row.hidden);
    });
  });
}

document.addEventListener("DOMContentLoaded", () => {
  setupMenus();
  setupDialogFill();
  setupBulk();
  setupNoMatch();
});

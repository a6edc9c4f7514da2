// Actions that take seconds say so: a submitted form's button shows it is busy and the form
// is not sent again until the page answers; a VM action shows the state it leads to
// (Powering up, Powering down) until the engine's own status arrives.
"use strict";

(() => {
  const EXPECTED = { start: ["powering_up", "Powering up"], shutdown: ["powering_down", "Powering down"],
    stop: ["powering_down", "Powering down"], reboot: ["reboot_in_progress", "Rebooting"] };

  function expect(vmId, action) {
    const next = EXPECTED[action];
    if (!vmId || !next) return;
    document.querySelectorAll(`[data-vm-status="${vmId}"]`).forEach((el) => {
      el.className = `status s-${next[0]}`;
      el.textContent = next[1];
      el.dataset.expected = next[0];
    });
  }

  function markBusy(button, busy) {
    if (!button) return;
    button.classList.toggle("busy", busy);
    if (busy) button.setAttribute("aria-busy", "true");
    else button.removeAttribute("aria-busy");
  }

  // After every other submit handler (a confirmation may have said no).
  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (event.defaultPrevented || (form.method || "").toLowerCase() !== "post") return;
    if (form.dataset.submitting) {
      event.preventDefault();  // the first one is on its way
      return;
    }
    form.dataset.submitting = "yes";
    const button = event.submitter || form.querySelector("[type=submit]");
    markBusy(button, true);
    const action = form.querySelector("input[name=action]");
    const value = (button && button.name === "action" && button.value) || (action && action.value);
    const vmId = button && button.dataset.vm;
    expect(vmId, value);
  });

  // Back to a page from the browser's cache: nothing is on its way any more.
  window.addEventListener("pageshow", (event) => {
    if (!event.persisted) return;
    document.querySelectorAll("form[data-submitting]").forEach((form) => {
      delete form.dataset.submitting;
    });
    document.querySelectorAll("[aria-busy=true]").forEach((button) => markBusy(button, false));
  });

  window.virtstickBusy = { markBusy, expect };
})();

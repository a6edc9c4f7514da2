// Any screen: below 800 px the Admin Portal's menu folds behind the menu button; it opens
// over the page and closes on a choice, Escape or a tap beside it.
"use strict";

(() => {
  document.addEventListener("DOMContentLoaded", () => {
    const toggle = document.querySelector("[data-toggle-nav]");
    const nav = document.getElementById("sidenav");
    if (!toggle || !nav) return;
    const setOpen = (open) => {
      document.body.classList.toggle("nav-open", open);
      toggle.setAttribute("aria-expanded", String(open));
    };
    toggle.addEventListener("click", () => setOpen(!document.body.classList.contains("nav-open")));
    nav.addEventListener("click", (event) => { if (event.target.closest("a")) setOpen(false); });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && document.body.classList.contains("nav-open")) {
        setOpen(false);
        toggle.focus();
      }
    });
    document.addEventListener("click", (event) => {
      if (document.body.classList.contains("nav-open") && !nav.contains(event.target)
          && !toggle.contains(event.target)) setOpen(false);
    });
  });
})();

// The in-browser console: the screen (noVNC) or the serial console (xterm.js), each through a
// one-time ticket and the console proxy; scaling, fullscreen, keys, pasting text as
// keystrokes, and the VM's power buttons. The VM's status comes live (live.js); the page
// follows it: a paused screen says so, a VM that stops shows Run, one that starts connects.
import RFB from "../vendor/novnc/core/rfb.js";
import keysyms from "../vendor/novnc/core/input/keysymdef.js";
import { Terminal } from "../vendor/xterm/xterm.mjs";
import { FitAddon } from "../vendor/xterm/addon-fit.mjs";

const screen = document.getElementById("screen");
const serialBox = document.getElementById("serial");
const statusText = document.getElementById("console-status");
const reconnect = document.getElementById("reconnect");
const downPanel = document.getElementById("console-down");
const pausedPanel = document.getElementById("console-paused");
const vmId = screen.dataset.vmId;
// Statuses with a display to connect to (a VM waiting for launch has none yet).
const RUNNING = new Set(["up", "powering_up", "powering_down", "reboot_in_progress",
  "migrating", "paused", "not_responding", "unknown", "saving_state", "restoring_state"]);
const RETRIES = 3;  // a lost connection to a running VM is tried again, then left to the user

const state = { rfb: null, terminal: null, socket: null, view: "screen",
  status: screen.dataset.status, connectedMs: null, ticket: null, started: 0, retries: 0 };
window.virtstickConsole = state;

function say(text) {
  statusText.textContent = text;
}

function csrf() {
  return document.querySelector('meta[name="csrf-token"]').content;
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    headers: { "X-CSRF-Token": csrf(), Accept: "application/json" },
    body,
  });
  const answer = await response.json().catch(() => ({ detail: response.statusText }));
  if (!response.ok) throw new Error(answer.detail || "The console could not be opened.");
  return answer;
}

function proxyUrl(answer) {
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${window.location.hostname}:${answer.port}${answer.path}`;
}

// ---- The screen

async function connectScreen() {
  reconnect.hidden = true;
  if (state.rfb) return;
  say("Asking for a console ticket…");
  const started = performance.now();
  let answer;
  try {
    answer = await post(screen.dataset.ticketUrl);
  } catch (error) {
    say(error.message);
    reconnect.hidden = false;
    return;
  }
  if (state.rfb || state.view !== "screen" || !RUNNING.has(state.status)) return;
  say("Connecting…");
  const rfb = new RFB(screen, proxyUrl(answer), { credentials: { password: answer.password } });
  state.rfb = rfb;
  rfb.scaleViewport = document.getElementById("scale").value === "fit";
  rfb.resizeSession = false;
  rfb.addEventListener("connect", () => {
    say(`Connected to ${answer.vm}`);
    state.connectedMs = performance.now() - started;
    state.retries = 0;
  });
  rfb.addEventListener("disconnect", (event) => {
    if (state.rfb !== rfb) return;  // replaced or let go on purpose
    state.rfb = null;
    const again = !event.detail.clean && RUNNING.has(state.status) && state.view === "screen";
    if (again && state.retries < RETRIES) {
      state.retries += 1;
      say("The connection was lost; connecting again…");
      window.setTimeout(connectScreen, 1000 * state.retries);
      return;
    }
    say(event.detail.clean ? "Disconnected." : "The connection was lost.");
    reconnect.hidden = !RUNNING.has(state.status) || state.view !== "screen";
  });
  rfb.addEventListener("securityfailure", (event) => {
    say(`Refused: ${event.detail.reason || "wrong password"}`);
  });
  rfb.addEventListener("credentialsrequired", () => {
    rfb.sendCredentials({ password: answer.password });
  });
  state.ticket = answer.ticket;
  state.started = started;
}

function disconnectScreen() {
  if (state.rfb) {
    const rfb = state.rfb;
    state.rfb = null;
    rfb.disconnect();
  }
}

// ---- Keys: named combinations, and text typed as keystrokes (US layout)

const KEYS = {
  ctrl: [0xffe3, "ControlLeft"], alt: [0xffe9, "AltLeft"], shift: [0xffe1, "ShiftLeft"],
  super: [0xffeb, "MetaLeft"], del: [0xffff, "Delete"], backspace: [0xff08, "Backspace"],
  tab: [0xff09, "Tab"], escape: [0xff1b, "Escape"], print: [0xff61, "PrintScreen"],
  enter: [0xff0d, "Enter"],
};
for (let n = 1; n <= 12; n += 1) KEYS[`f${n}`] = [0xffbd + n, `F${n}`];
const SHIFTED = '~!@#$%^&*()_+{}|:"<>?';

function sendKeys(names) {
  if (!state.rfb) return;
  const keys = names.map((name) => KEYS[name]);
  keys.forEach(([sym, code]) => state.rfb.sendKey(sym, code, true));
  [...keys].reverse().forEach(([sym, code]) => state.rfb.sendKey(sym, code, false));
}

function typeText(text) {
  if (!state.rfb) return 0;
  let typed = 0;
  for (const char of text.replace(/\r\n?/g, "\n")) {
    if (char === "\n") {
      sendKeys(["enter"]);
    } else if (char === "\t") {
      sendKeys(["tab"]);
    } else {
      const sym = keysyms.lookup(char.codePointAt(0));
      const shift = /[A-Z]/.test(char) || SHIFTED.includes(char);
      if (shift) state.rfb.sendKey(KEYS.shift[0], null, true);
      state.rfb.sendKey(sym, null, true);
      state.rfb.sendKey(sym, null, false);
      if (shift) state.rfb.sendKey(KEYS.shift[0], null, false);
    }
    typed += 1;
  }
  return typed;
}

function setupKeys() {
  document.getElementById("send-cad").addEventListener("click", () => sendKeys(["ctrl", "alt", "del"]));
  const button = document.getElementById("keys");
  const menu = document.getElementById("keys-list");
  const close = () => { menu.hidden = true; button.setAttribute("aria-expanded", "false"); };
  button.addEventListener("click", () => {
    menu.hidden = !menu.hidden;
    button.setAttribute("aria-expanded", String(!menu.hidden));
    if (!menu.hidden) menu.querySelector("button").focus();
  });
  menu.addEventListener("click", (event) => {
    const item = event.target.closest("[data-keys]");
    if (!item) return;
    sendKeys(item.dataset.keys.split(" "));
    say(`Sent ${item.textContent}.`);
    close();
    button.focus();
  });
  menu.addEventListener("keydown", (event) => {
    const items = [...menu.querySelectorAll("button")];
    const at = items.indexOf(document.activeElement);
    if (event.key === "Escape") { close(); button.focus(); }
    if (event.key === "ArrowDown") { event.preventDefault(); items[(at + 1) % items.length].focus(); }
    if (event.key === "ArrowUp") {
      event.preventDefault(); items[(at - 1 + items.length) % items.length].focus();
    }
  });
  document.addEventListener("click", (event) => {
    if (!menu.hidden && !event.target.closest(".keys-menu")) close();
  });
  document.getElementById("paste-form").addEventListener("submit", () => {
    const field = document.getElementById("paste-text");
    const typed = typeText(field.value);
    say(typed ? `Typed ${typed} characters.` : "Nothing was typed: the screen is not connected.");
    field.value = "";
  });
}

// ---- The serial console

async function connectSerial() {
  if (state.socket) return;
  if (!state.terminal) {
    state.terminal = new Terminal({ convertEol: false, cursorBlink: true, fontSize: 14,
      scrollback: 5000, theme: { background: "#000000" } });
    state.fit = new FitAddon();
    state.terminal.loadAddon(state.fit);
    state.terminal.open(serialBox);
    state.terminal.onData((data) => {
      if (state.socket && state.socket.readyState === WebSocket.OPEN) state.socket.send(data);
    });
  }
  state.fit.fit();
  say("Asking for a serial console ticket…");
  let answer;
  try {
    answer = await post(screen.dataset.serialUrl);
  } catch (error) {
    say(error.message);
    reconnect.hidden = false;
    return;
  }
  const socket = new WebSocket(proxyUrl(answer));
  socket.binaryType = "arraybuffer";
  state.socket = socket;
  socket.addEventListener("open", () => {
    say(`Serial console of ${answer.vm}`);
    state.terminal.focus();
  });
  socket.addEventListener("message", (event) => {
    state.terminal.write(typeof event.data === "string" ? event.data : new Uint8Array(event.data));
  });
  socket.addEventListener("close", (event) => {
    if (state.socket === socket) state.socket = null;
    say(event.code === 4001 ? "The serial console was opened in another window."
      : "The serial console closed.");
    reconnect.hidden = !RUNNING.has(state.status) || state.view !== "serial";
  });
}

function disconnectSerial() {
  if (state.socket) {
    const socket = state.socket;
    state.socket = null;
    socket.close();
  }
}

// ---- What is shown: the screen or the serial console, or why neither

function show(view) {
  state.view = view;
  document.getElementById("show-screen").setAttribute("aria-pressed", String(view === "screen"));
  document.getElementById("show-serial").setAttribute("aria-pressed", String(view === "serial"));
  follow(state.status);
}

function follow(status) {
  state.status = status;
  const running = RUNNING.has(status);
  downPanel.hidden = running;
  pausedPanel.hidden = status !== "paused";
  screen.hidden = !running || state.view !== "screen";
  serialBox.hidden = !running || state.view !== "serial";
  document.querySelectorAll("[data-screen-only]").forEach((el) => {
    el.hidden = !running || state.view !== "screen";
  });
  if (!running) {
    disconnectScreen();
    disconnectSerial();
    reconnect.hidden = true;
    say("The VM is not running.");
    return;
  }
  if (state.view === "screen") {
    disconnectSerial();
    connectScreen();
  } else {
    disconnectScreen();
    connectSerial();
  }
}

// ---- Power buttons, as on the VM's page (the same actions, CSRF and refusals)

function setupPower() {
  document.querySelectorAll("[data-action]").forEach((button) => {
    button.addEventListener("click", async () => {
      if (button.getAttribute("aria-busy") === "true") return;
      if (button.dataset.confirm && !window.confirm(button.dataset.confirm)) return;
      const body = new URLSearchParams({ action: button.dataset.action });
      window.virtstickBusy.markBusy(button, true);
      window.virtstickBusy.expect(vmId, button.dataset.action);
      say(`${button.textContent.trim()}…`);
      try {
        const answer = await post(screen.dataset.actionUrl, body);
        say(answer.said);
      } catch (error) {
        say(error.message);
      } finally {
        window.virtstickBusy.markBusy(button, false);
      }
    });
  });
}

function setupView() {
  document.getElementById("show-screen").addEventListener("click", () => show("screen"));
  document.getElementById("show-serial").addEventListener("click", () => show("serial"));
  reconnect.addEventListener("click", () => {
    reconnect.hidden = true;
    if (state.view === "screen") { disconnectScreen(); connectScreen(); }
    else { disconnectSerial(); connectSerial(); }
  });
  document.getElementById("scale").addEventListener("change", (event) => {
    const fit = event.target.value === "fit";
    screen.classList.toggle("fit", fit);
    if (state.rfb) state.rfb.scaleViewport = fit;
  });
  // The whole page, so its bar (and Exit fullscreen) stays; Esc leaves it too.
  document.getElementById("fullscreen").addEventListener("click", () => {
    const page = document.documentElement;
    if (document.fullscreenElement) document.exitFullscreen();
    else if (page.requestFullscreen) {
      page.requestFullscreen().catch(() => say("Fullscreen is not allowed here."));
    }
  });
  document.addEventListener("fullscreenchange", () => {
    document.getElementById("fullscreen").textContent = document.fullscreenElement ? "Exit fullscreen" : "Fullscreen";
  });
  window.addEventListener("resize", () => { if (state.fit && state.view === "serial") state.fit.fit(); });
}

// live.js and portal.js keep the status chip current; the page follows what it says.
function watchStatus() {
  const chip = document.querySelector(`.console-bar [data-vm-status="${vmId}"]`);
  if (!chip) return;
  new MutationObserver(() => {
    const status = [...chip.classList].find((c) => c.startsWith("s-"));
    const found = status ? status.slice(2) : state.status;
    if (found !== state.status && !chip.dataset.expected) follow(found);
  }).observe(chip, { attributes: true, attributeFilter: ["class"] });
}

setupKeys();
setupPower();
setupView();
watchStatus();
state.connect = () => follow(state.status);
show("screen");

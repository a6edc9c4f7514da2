// The in-browser console: ask for a one-time ticket, then let noVNC speak to the proxy.
import RFB from "../vendor/novnc/core/rfb.js";

const screen = document.getElementById("screen");
const statusText = document.getElementById("console-status");
const reconnect = document.getElementById("reconnect");
let rfb = null;

function say(text) {
  statusText.textContent = text;
}

async function connect() {
  reconnect.hidden = true;
  say("Asking for a console ticket…");
  const started = performance.now();
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const response = await fetch(screen.dataset.ticketUrl, {
    method: "POST",
    headers: { "X-CSRF-Token": csrf, Accept: "application/json" },
  });
  const answer = await response.json();
  if (!response.ok) {
    say(answer.detail || "The console could not be opened.");
    reconnect.hidden = false;
    return;
  }
  const scheme = window.location.protocol === "https:" ? "wss" : "ws";
  const url = `${scheme}://${window.location.hostname}:${answer.port}${answer.path}`;
  say("Connecting…");
  rfb = new RFB(screen, url, { credentials: { password: answer.password } });
  rfb.scaleViewport = false;
  rfb.resizeSession = false;
  rfb.addEventListener("connect", () => {
    say(`Connected to ${answer.vm}`);
    window.virtstickConsole.connectedMs = performance.now() - started;
  });
  rfb.addEventListener("disconnect", (event) => {
    say(event.detail.clean ? "Disconnected." : "The connection was lost.");
    reconnect.hidden = false;
  });
  rfb.addEventListener("securityfailure", (event) => {
    say(`Refused: ${event.detail.reason || "wrong password"}`);
  });
  rfb.addEventListener("credentialsrequired", () => {
    rfb.sendCredentials({ password: answer.password });
  });
  window.virtstickConsole.rfb = rfb;
  window.virtstickConsole.ticket = answer.ticket;
  window.virtstickConsole.started = started;
}

window.virtstickConsole = { connect };
document.getElementById("send-cad").addEventListener("click", () => rfb && rfb.sendCtrlAltDel());
reconnect.addEventListener("click", () => {
  if (rfb) rfb.disconnect();
  connect();
});
connect();

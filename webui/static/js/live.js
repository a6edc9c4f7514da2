// Live pages: one server-sent events stream per page (/live/stream) brings what changes -
// VM statuses, jobs, events, the dashboard's counts, new statistics for the charts - and
// this script puts it in place without a reload. A page names what it shows in
// <meta name="virtstick-live">; without a stream (refused, or no EventSource) it polls.
"use strict";

(() => {
  const RETRY_AFTER_REFUSAL_MS = 30000;
  const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
    "Dec"];
  const state = { source: null, opened: 0, ended: "" };

  // ---- The stream

  function streamUrl(topics) {
    const watched = [...new Set([...document.querySelectorAll("svg[data-chart-object]")]
      .map((svg) => svg.dataset.chartObject))];
    const query = new URLSearchParams({ topics: topics.join(",") });
    if (watched.length) query.set("watch", watched.join(","));
    return `/live/stream?${query}`;
  }

  function open(topics) {
    const source = new EventSource(streamUrl(topics));
    state.source = source;
    source.addEventListener("open", () => {
      state.opened += 1;
      document.documentElement.dataset.live = "open";
      window.virtstick.stopPolling();
      // What changed before the stream opened (or while it was down): the states of the
      // VMs on the page and the latest jobs, once.
      const ids = [...new Set([...document.querySelectorAll("[data-vm-status]")]
        .map((el) => el.dataset.vmStatus))];
      window.virtstick.pollOnce(ids.length ? `/status/vms.json?ids=${ids.join(",")}`
        : "/status/jobs.json");
    });
    on(source, "vm", (vm) => window.virtstick.applyVm(vm));
    on(source, "vm-removed", removeVm);
    on(source, "job", (job) => window.virtstick.applyJob(job));
    on(source, "event", addEvent);
    on(source, "dashboard", showCounts);
    on(source, "storage", showStorage);
    on(source, "samples", (data) => Object.entries(data.objects).forEach(([id, sample]) =>
      document.querySelectorAll(`svg[data-chart-object="${id}"]`).forEach((svg) =>
        addPoint(svg, sample.time, sample.values))));
    on(source, "resync", () => window.virtstick.pollOnce());
    on(source, "end", (data) => {
      source.close();
      if (data.final) {
        state.ended = data.reason;
        document.documentElement.dataset.live = "ended";
        showEnded(data.reason);
      } else {
        window.setTimeout(() => open(topics), 500);
      }
    });
    source.addEventListener("error", () => {
      // CONNECTING: the browser reconnects by itself. CLOSED: refused (too many pages, or
      // logged out): poll, and try a stream again later.
      if (source.readyState !== EventSource.CLOSED || state.ended) return;
      document.documentElement.dataset.live = "polling";
      window.virtstick.startPolling();
      window.setTimeout(() => { if (state.source === source) open(topics); },
        RETRY_AFTER_REFUSAL_MS);
    });
  }

  function on(source, name, handle) {
    source.addEventListener(name, (message) => handle(JSON.parse(message.data)));
  }

  function showEnded(reason) {
    let banner = document.getElementById("live-ended");
    if (!banner) {
      banner = document.createElement("div");
      banner.id = "live-ended";
      banner.className = "live-ended";
      banner.setAttribute("role", "alert");
      const link = document.createElement("a");
      link.href = `/login?next=${encodeURIComponent(window.location.pathname)}`;
      link.textContent = "Log in";
      banner.append(document.createElement("span"), " ", link);
      document.body.prepend(banner);
    }
    banner.firstChild.textContent = reason;
  }

  // ---- VMs and events

  function removeVm(data) {
    document.querySelectorAll(`[data-vm-row="${data.id}"]`).forEach((row) => {
      row.classList.add("removed");
      row.querySelectorAll("button, a").forEach((el) => {
        el.setAttribute("aria-disabled", "true");
        if (el.tagName === "BUTTON") el.disabled = true;
      });
    });
  }

  function addEvent(event) {
    document.querySelectorAll("[data-live-events]").forEach((body) => {
      if (body.dataset.vm && body.dataset.vm !== event.vm_id) return;
      if (body.querySelector(`[data-event="${event.id}"]`)) return;
      const row = document.createElement("tr");
      row.dataset.event = event.id;
      row.className = "live-new";
      const cells = (body.dataset.liveEvents || "severity description time").split(" ");
      cells.forEach((cell) => row.append(eventCell(cell, event)));
      body.querySelectorAll("td.empty").forEach((el) => el.closest("tr").remove());
      body.prepend(row);
      const most = Number(body.dataset.max || 0);
      if (most) [...body.rows].slice(most).forEach((old) => old.remove());
    });
  }

  function eventCell(kind, event) {
    const td = document.createElement("td");
    if (kind === "severity") {
      td.style.width = "1%";
      const sev = document.createElement("span");
      sev.className = `sev ${event.severity}`;
      sev.textContent = event.severity;
      td.append(sev);
    } else if (kind === "time") {
      td.className = "muted";
      td.style.whiteSpace = "nowrap";
      const when = new Date(event.time * 1000);
      const time = document.createElement("time");
      time.dateTime = when.toISOString();
      time.textContent = when.toLocaleString();
      td.append(time);
    } else if (kind === "vm") {
      td.textContent = event.vm_name || "";
    } else if (kind === "host") {
      td.textContent = event.host_name || "";
    } else if (kind === "user") {
      td.textContent = event.user || "";
    } else {
      td.textContent = event.description;
    }
    return td;
  }

  // ---- The dashboard

  function setStat(name, value) {
    document.querySelectorAll(`[data-stat="${name}"]`).forEach((el) => {
      if (el.textContent !== String(value)) el.textContent = value;
    });
  }

  function setMeter(name, percent) {
    document.querySelectorAll(`[data-meter="${name}"]`).forEach((meter) => {
      meter.setAttribute("aria-valuenow", Math.round(percent));
      meter.classList.toggle("bad", percent > 90);
      meter.classList.toggle("warn", percent > 75 && percent <= 90);
      meter.firstElementChild.style.width = `${Math.min(percent, 100)}%`;
    });
  }

  function showCounts(board) {
    ["hosts_up", "hosts_total", "vms_up", "vms_down", "vms_total", "memory_used",
      "memory_total", "vcpus_used", "cpus_total"].forEach((name) => setStat(name, board[name]));
    setMeter("memory", board.memory_pct);
    setMeter("vcpus", board.vcpus_pct);
  }

  function showStorage(totals) {
    setStat("storage-used", totals.used);
    setStat("storage-free", totals.free);
    setStat("storage-capacity", totals.capacity);
    setStat("overcommit", totals.overcommit);
    setMeter("storage", totals.used_pct);
  }

  // ---- Charts: the server drew each one; new points are added to its lines, its scale
  // redrawn, and points older than its window dropped.

  function scaleOf(svg) {
    const [left, top, width, height] = svg.dataset.plot.split(",").map(Number);
    return { left, top, width, height, start: Number(svg.dataset.start),
      span: Math.max(Number(svg.dataset.span), 1), max: Number(svg.dataset.top) || 1 };
  }

  // The points as drawn, back to (time, value): the scale the server used is on the SVG.
  function seriesOf(svg) {
    if (svg.liveSeries) return svg.liveSeries;
    const s = scaleOf(svg);
    const series = {};
    svg.querySelectorAll("polyline[data-key]").forEach((line) => {
      const points = (line.getAttribute("points") || "").trim();
      series[line.dataset.key] = points ? points.split(/\s+/).map((pair) => {
        const [x, y] = pair.split(",").map(Number);
        return [s.start + ((x - s.left) / s.width) * s.span,
          ((s.top + s.height - y) / s.height) * s.max];
      }) : [];
    });
    svg.liveSeries = series;
    return series;
  }

  function addPoint(svg, time, values) {
    const series = seriesOf(svg);
    const step = Number(svg.dataset.step) || 1;
    let added = false;
    Object.entries(series).forEach(([key, points]) => {
      if (!(key in values)) return;
      const last = points[points.length - 1];
      if (last && time - last[0] < step * 0.9) return;  // finer than the chart's points
      points.push([time, values[key]]);
      added = true;
    });
    if (!added) return;
    const since = time - Number(svg.dataset.window);
    Object.values(series).forEach((points) => {
      while (points.length && points[0][0] < since) points.shift();
    });
    redraw(svg, series);
  }

  function redraw(svg, series) {
    const all = Object.values(series).flat();
    const s = scaleOf(svg);
    const start = Math.min(...all.map((p) => p[0]));
    const end = Math.max(...all.map((p) => p[0]));
    const span = Math.max(end - start, 1);
    const max = svg.dataset.fixedTop === "yes" ? s.max : nice(Math.max(0, ...all.map((p) => p[1])));
    const x = (t) => s.left + ((t - start) / span) * s.width;
    const y = (v) => s.top + s.height - (Math.min(Math.max(v, 0), max) / (max || 1)) * s.height;
    svg.querySelectorAll("polyline[data-key]").forEach((line) => {
      const points = series[line.dataset.key] || [];
      line.setAttribute("points", points.map(([t, v]) => `${x(t).toFixed(1)},${y(v).toFixed(1)}`)
        .join(" "));
    });
    svg.querySelectorAll(".chart-scale").forEach((text) => {
      text.textContent = scaleLabel(max * Number(text.dataset.fraction), svg.dataset.unit);
    });
    svg.querySelectorAll(".chart-time").forEach((text) => {
      const edge = text.dataset.edge === "start" ? start : end;
      text.textContent = clock(edge);
      text.setAttribute("x", x(edge).toFixed(1));
    });
    svg.querySelectorAll(".chart-empty").forEach((text) => text.remove());
    Object.assign(svg.dataset, { start: start.toFixed(0), span: span.toFixed(0), top: String(max) });
    svg.dataset.updated = String(Date.now());
  }

  // As webui/charts.py: a round top for the scale, its labels and its times.
  function nice(value) {
    if (value <= 0) return 1;
    let power = 1;
    while (power * 10 <= value) power *= 10;
    while (power > value) power /= 10;
    for (const step of [1, 2, 5, 10]) if (step * power >= value) return step * power;
    return 10 * power;
  }

  function scaleLabel(value, unit) {
    if (unit === "%") return `${value.toFixed(0)}%`;
    if (unit === "B" || unit === "B/s") {
      const rate = unit === "B/s" ? "/s" : "";
      if (Math.abs(value) >= 1024 ** 3) return `${(value / 1024 ** 3).toFixed(1)} GiB${rate}`;
      return value ? `${(value / 1024 ** 2).toFixed(1)} MiB${rate}` : `0 MiB${rate}`;
    }
    for (const [suffix, size] of [["G", 1e9], ["M", 1e6], ["k", 1e3]]) {
      if (Math.abs(value) >= size) return `${(value / size).toFixed(1)} ${suffix}${unit}`;
    }
    return `${value.toFixed(0)} ${unit}`.trim();
  }

  function clock(seconds) {
    const d = new Date(seconds * 1000);
    const two = (n) => String(n).padStart(2, "0");
    return `${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${two(d.getUTCHours())}:`
      + `${two(d.getUTCMinutes())} UTC`;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const meta = document.querySelector('meta[name="virtstick-live"]');
    if (!meta || !window.EventSource) return;
    open(meta.content.trim().split(/\s+/));
  });

  window.virtstickLive = state;
})();

// Uploads through an image transfer, as oVirt's portal does: the portal makes the disk and
// its transfer, the file goes straight to ovirt-imageio at the transfer's URL in PUTs of
// 8 MiB (so the progress is the browser's own), then the portal finalizes the transfer.
(() => {
  const CHUNK = 8 * 1024 * 1024;
  const QCOW2_MAGIC = 0x514649fb;

  async function describe(file, fixedKind) {
    if (fixedKind) return { kind: fixedKind, virtual: file.size };
    const head = new DataView(await file.slice(0, 32).arrayBuffer());
    if (head.byteLength === 32 && head.getUint32(0) === QCOW2_MAGIC) {
      return { kind: "qcow2", virtual: Number(head.getBigUint64(24)) };
    }
    return { kind: "raw", virtual: file.size };
  }

  function portal(method, path, body) {
    return fetch(path, {
      method,
      headers: { "Accept": "application/json", "Content-Type": "application/json",
                 "X-CSRF-Token": window.virtstick.csrf() },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(async (response) => {
      const answer = await response.json().catch(() => ({ detail: response.statusText }));
      if (!response.ok) throw new Error(answer.detail || response.statusText);
      return answer;
    });
  }

  function putChunk(url, blob, start, last, onProgress) {
    return new Promise((resolve, reject) => {
      const request = new XMLHttpRequest();
      request.open("PUT", `${url}?flush=${last ? "y" : "n"}`);
      request.setRequestHeader("Content-Range",
        `bytes ${start}-${start + blob.size - 1}/*`);
      request.upload.addEventListener("progress", (e) => onProgress(e.loaded));
      request.addEventListener("load", () => (request.status < 300 ? resolve()
        : reject(new Error(`the data server answered ${request.status}: ${request.responseText}`))));
      request.addEventListener("error", () => reject(new Error(
        "the data server could not be reached (is the appliance's CA trusted by this browser?)")));
      request.send(blob);
    });
  }

  async function waitFinished(id) {
    for (;;) {
      const transfer = await portal("GET", `/admin/uploads/${id}`);
      if (transfer.finished) return transfer;
      await new Promise((done) => setTimeout(done, 500));
    }
  }

  async function upload(form, file, show) {
    const { kind, virtual } = await describe(file, form.dataset.upload);
    const base = file.name.replace(/\.(iso|qcow2|img|raw)$/i, "").replace(/[^\w.-]/g, "_");
    const domain = form.querySelector("select");
    const transfer = await portal("POST", "/admin/uploads", {
      name: base, kind, file_size: file.size, virtual_size: virtual,
      storage_domain_id: domain ? domain.value : "",
    });
    try {
      for (let start = 0; start < file.size; start += CHUNK) {
        const blob = file.slice(start, Math.min(file.size, start + CHUNK));
        await putChunk(transfer.url, blob, start, start + blob.size >= file.size,
          (loaded) => show(Math.round((100 * (start + loaded)) / file.size)));
      }
    } catch (error) {
      await portal("POST", `/admin/uploads/${transfer.id}/cancel`).catch(() => {});
      throw error;
    }
    show(100, "checking");
    await portal("POST", `/admin/uploads/${transfer.id}/finalize`);
    const ended = await waitFinished(transfer.id);
    if (ended.phase !== "finished_success") throw new Error(ended.message || ended.phase);
  }

  document.addEventListener("DOMContentLoaded", () => {
    for (const form of document.querySelectorAll("form[data-upload]")) {
      const message = document.getElementById(form.dataset.message);
      const meter = document.getElementById(form.dataset.meter);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        const file = form.querySelector("input[type=file]").files[0];
        if (!file) return;
        meter.hidden = false;
        const show = (pct, what) => {
          meter.firstElementChild.style.width = `${pct}%`;
          message.textContent = what === "checking" ? `Checking ${file.name}…`
            : `Uploading ${file.name}: ${pct}%`;
        };
        upload(form, file, show).then(() => window.location.reload(),
          (error) => { message.textContent = `The upload failed: ${error.message}`; });
      });
    }
  });
})();

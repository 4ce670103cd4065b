// Uploads: drop or choose files, each one sent on its own with a progress bar and its own answer.
// Without this script the form still works: it posts every chosen file at once and comes back.
(function () {
  "use strict";

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID().replace(/-/g, "");
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }

  function item(list, name) {
    var li = document.createElement("li");
    var label = document.createElement("span");
    label.className = "upload-name";
    label.textContent = name;
    var bar = document.createElement("progress");
    bar.max = 100;
    bar.value = 0;
    var answer = document.createElement("div");
    answer.className = "upload-answer";
    li.append(label, bar, answer);
    list.prepend(li);
    return { li: li, bar: bar, answer: answer };
  }

  function fail(row, text) {
    row.bar.remove();
    var p = document.createElement("p");
    p.className = "upload-error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    row.answer.replaceChildren(p);
  }

  // One request per file: each has its own idempotency key, so a retry after a lost answer stores it once.
  function send(form, file) {
    var list = form.querySelector("[data-upload-list]");
    var row = item(list, file.name);
    var max = Number(form.dataset.maxBytes || 0);
    if (max && file.size > max) {
      fail(row, form.dataset.tooLarge.replace("{name}", file.name));
      return Promise.resolve(false);
    }
    var data = new FormData();
    form.querySelectorAll("input[type=hidden], input[name=folder], select").forEach(function (el) {
      if (el.name && el.name !== "idempotency_key") data.append(el.name, el.value);
    });
    data.append("idempotency_key", newKey());
    data.append("files", file, file.name);
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      xhr.setRequestHeader("X-Upload", "1");
      xhr.setRequestHeader("X-CSRFToken", form.querySelector("input[name=csrf_token]").value);
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) row.bar.value = Math.round((event.loaded / event.total) * 100);
      });
      xhr.addEventListener("load", function () {
        row.bar.value = 100;
        // Our own answer says what happened to the file; anything else (a proxy's page, the
        // server's own size limit) gets a message of ours.
        var answer = new DOMParser().parseFromString(xhr.responseText, "text/html").querySelector("[data-upload-answer]");
        if (answer) {
          row.bar.remove();
          row.answer.replaceChildren(answer);
          resolve(xhr.status === 200);
        } else {
          fail(row, (xhr.status === 413 ? form.dataset.tooLarge : form.dataset.failed).replace("{name}", file.name));
          resolve(false);
        }
      });
      xhr.addEventListener("error", function () {
        fail(row, form.dataset.failed.replace("{name}", file.name));
        resolve(false);
      });
      xhr.send(data);
    });
  }

  function sendAll(form, files) {
    var chain = Promise.resolve(false), any = false;
    Array.from(files).forEach(function (file) {
      chain = chain.then(function () { return send(form, file); }).then(function (ok) { any = any || ok; });
    });
    return chain.then(function () {
      // Show the new documents in the list below (the same page, asked again).
      if (any && document.getElementById("results") && window.htmx) {
        htmx.ajax("GET", window.location.href, { target: "#results", swap: "outerHTML" });
      }
      if (any && form.hasAttribute("data-reload")) window.location.reload();
    });
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-file-input]")) return;
    var form = input.closest("form[data-upload]");
    if (!form || !input.files.length) return;
    sendAll(form, input.files).then(function () { input.value = ""; });
  });

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-upload]")) return;
    event.preventDefault();
    form.querySelectorAll("[data-file-input]").forEach(function (input) {
      if (input.files.length) sendAll(form, input.files).then(function () { input.value = ""; });
    });
  });

  ["dragenter", "dragover"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var target = event.target.closest ? event.target.closest("[data-drop-target]") : null;
      if (!target) return;
      event.preventDefault();
      target.classList.add("dragging");
    });
  });
  ["dragleave", "drop"].forEach(function (type) {
    document.addEventListener(type, function (event) {
      var target = event.target.closest ? event.target.closest("[data-drop-target]") : null;
      if (!target) return;
      event.preventDefault();
      target.classList.remove("dragging");
      if (type === "drop" && event.dataTransfer && event.dataTransfer.files.length) {
        sendAll(target.closest("form[data-upload]"), event.dataTransfer.files);
      }
    });
  });
})();

// Declarative forms in the browser: show_if, repeat rows, and summary charts.
// The server decides what is valid; this only hides (and disables, so they are
// not sent) the fields whose condition does not hold, as the schema expects.
(function () {
  "use strict";

  // --- show_if ---
  function fieldIn(scope, name) {
    return Array.from(scope.children).find((el) => el.dataset && el.dataset.field === name);
  }

  function valueOf(wrapper) {
    const inputs = Array.from(wrapper.querySelectorAll("input, select, textarea"));
    const boxes = inputs.filter((i) => i.type === "checkbox");
    if (boxes.length) return boxes.filter((i) => i.checked).map((i) => i.value);
    const radios = inputs.filter((i) => i.type === "radio");
    if (radios.length) {
      const chosen = radios.find((i) => i.checked);
      if (!chosen) return null;
      return chosen.value === "true" ? true : chosen.value === "false" ? false : chosen.value;
    }
    const input = inputs[0];
    if (!input || input.value === "") return null;
    return input.type === "number" ? Number(input.value) : input.value;
  }

  function holds(condition, value) {
    const wanted = "in" in condition ? condition.in : [condition.equals];
    if (Array.isArray(value)) return value.some((v) => wanted.includes(v));
    return wanted.includes(value);
  }

  function applyConditions(form) {
    // Document order: a controller is settled before the fields that depend on it.
    form.querySelectorAll("[data-show-if]").forEach((wrapper) => {
      const condition = JSON.parse(wrapper.dataset.showIf);
      const scope = wrapper.closest("[data-scope]");
      const controller = scope && fieldIn(scope, condition.field);
      const shown = !!controller && !controller.hidden && holds(condition, valueOf(controller));
      wrapper.hidden = !shown;
      wrapper.querySelectorAll("input, select, textarea").forEach((i) => { i.disabled = !shown; });
    });
  }

  // --- repeat rows ---
  function renumber(group) {
    const key = group.dataset.group;
    group.querySelectorAll(":scope > .repeat-row").forEach((row, index) => {
      row.querySelectorAll("[name]").forEach((input) => {
        const rest = input.name.slice(key.length + 1).replace(/^[^.]+/, String(index));
        input.name = key + "." + rest;
        input.id = "f-" + input.name;
      });
      row.querySelectorAll("label[for]").forEach((label) => {
        const rest = label.htmlFor.slice(("f-" + key).length + 1).replace(/^[^.]+/, String(index));
        label.htmlFor = "f-" + key + "." + rest;
      });
    });
  }

  function wireRepeat(group, form) {
    const template = group.querySelector(":scope > template");
    group.querySelector(":scope > .repeat-add").addEventListener("click", () => {
      const rows = group.querySelectorAll(":scope > .repeat-row").length;
      if (rows >= Number(group.dataset.max)) return;
      group.insertBefore(template.content.cloneNode(true), template);
      renumber(group);
      applyConditions(form);
    });
    group.addEventListener("click", (ev) => {
      const button = ev.target.closest(".repeat-remove");
      if (!button || button.closest(".repeat") !== group) return;
      button.closest(".repeat-row").remove();
      renumber(group);
    });
  }

  document.querySelectorAll("form.fs-form").forEach((form) => {
    form.querySelectorAll(".repeat").forEach((group) => wireRepeat(group, form));
    form.addEventListener("input", () => applyConditions(form));
    form.addEventListener("change", () => applyConditions(form));
    applyConditions(form);
  });

  // --- summary charts: drawn with the vendored Chart.js when it loaded, else the HTML bars stay ---
  if (window.Chart) {
    document.querySelectorAll("[data-chart]").forEach((block) => {
      const data = JSON.parse(block.dataset.chart);
      const canvas = document.createElement("canvas");
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", block.dataset.title || "");
      block.querySelector(".bars").replaceWith(canvas);
      new window.Chart(canvas, {
        type: "bar",
        data: { labels: data.map((b) => b.label), datasets: [{ data: data.map((b) => b.count), backgroundColor: "#0b57d0" }] },
        options: { indexAxis: "y", plugins: { legend: { display: false } }, animation: false,
                   scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
      });
    });
  }
})();

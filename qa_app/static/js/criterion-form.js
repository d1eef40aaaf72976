// The criterion form: the weight's live share of the version's total weight, and only the
// fields of the chosen type. Without this script every field shows and the share is the saved one.
(function () {
  "use strict";

  const weight = document.getElementById("weight");
  const share = document.getElementById("weight-share");
  if (weight && share) {
    const others = Number(weight.dataset.otherWeight || 0);
    const update = function () {
      const value = Number(weight.value);
      share.textContent = Number.isFinite(value) && value > 0
        ? (100 * value / (value + others)).toFixed(1) + "% of the version's total weight"
        : "";
    };
    weight.addEventListener("input", update);
    update();
  }

  const kind = document.getElementById("kind");
  if (kind) {
    const toggle = function () {
      document.querySelectorAll("[data-kind-only]").forEach(function (fieldset) {
        fieldset.hidden = fieldset.dataset.kindOnly !== kind.value;
      });
    };
    kind.addEventListener("change", toggle);
    toggle();
  }
})();

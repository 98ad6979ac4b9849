// Save and resume: keeps the answers given so far while the stakeholder goes.
// Only the "Send my answers" button makes a response; this only saves a draft.
(() => {
  const form = document.getElementById("survey-form");
  if (!form || !form.dataset.saveUrl) return;
  const status = document.getElementById("autosave-status");
  let timer = null;

  const save = async () => {
    const data = new FormData(form);
    data.delete("action");
    try {
      const response = await fetch(form.dataset.saveUrl, { method: "POST", body: data, credentials: "same-origin" });
      if (response.ok && status) status.textContent = "Answers saved on this link.";
    } catch (error) {
      if (status) status.textContent = "";
    }
  };

  form.addEventListener("change", () => {
    clearTimeout(timer);
    timer = setTimeout(save, 600);
  });
  form.addEventListener("input", (event) => {
    if (event.target.tagName !== "TEXTAREA") return;
    clearTimeout(timer);
    timer = setTimeout(save, 2000);
  });
  // The services left to answer: the page says it as served; this keeps it true as they answer.
  const left = document.getElementById("services-left");
  const count = () => {
    const services = form.querySelectorAll("details[data-service]");
    let open = 0;
    services.forEach((item) => {
      const usage = item.querySelector('.service-usage input:checked');
      const rated = item.querySelectorAll('.service-ratings input:checked').length === 2;
      const answered = usage && (usage.value !== "uses" || rated);
      if (!answered) open += 1;
      const state = item.querySelector(".service-state");
      if (state) {
        state.textContent = answered ? "Answered" : "To answer";
        state.className = `service-state badge ${answered ? "text-bg-success" : "text-bg-light border"}`;
      }
    });
    const total = services.length;
    const plural = total === 1 ? "" : "s";
    left.textContent = open ? `${open} of ${total} service${plural} left to answer.` : `All ${total} service${plural} answered.`;
  };
  if (left) form.addEventListener("change", count);

  const errors = document.getElementById("form-errors");
  if (errors) errors.focus();
})();

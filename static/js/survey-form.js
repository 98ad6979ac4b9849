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
  const errors = document.getElementById("form-errors");
  if (errors) errors.focus();
})();

// Drag and drop onto the upload form: the dropped file fills the file input, then the form submits as usual.
document.addEventListener("DOMContentLoaded", () => {
  const form = document.querySelector("[data-dropzone]");
  if (!form) return;
  const zone = form.querySelector("[data-dropzone-target]");
  const input = form.querySelector("input[type=file]");
  ["dragenter", "dragover"].forEach((name) =>
    zone.addEventListener(name, (event) => {
      event.preventDefault();
      zone.classList.add("dragging");
    }),
  );
  ["dragleave", "drop"].forEach((name) =>
    zone.addEventListener(name, () => zone.classList.remove("dragging")),
  );
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    if (!event.dataTransfer.files.length) return;
    input.files = event.dataTransfer.files;
    form.requestSubmit();
  });
});

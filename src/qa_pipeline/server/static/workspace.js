// Click a transcript line or an evidence quote: the recording plays from that moment. The current line
// is highlighted while it plays. Everything else on the pages works without this script.
document.addEventListener("DOMContentLoaded", () => {
  const audio = document.querySelector("audio");
  if (!audio) return;
  document.querySelectorAll("button.seek").forEach((button) => {
    button.addEventListener("click", () => {
      audio.currentTime = parseFloat(button.dataset.seek);
      audio.play().catch(() => {});
    });
  });
  const lines = Array.from(document.querySelectorAll("li.segment"));
  audio.addEventListener("timeupdate", () => {
    lines.forEach((li) => {
      const b = li.querySelector("button");
      const on = audio.currentTime >= parseFloat(b.dataset.seek) && audio.currentTime < parseFloat(b.dataset.end);
      li.classList.toggle("current", on);
    });
  });
});

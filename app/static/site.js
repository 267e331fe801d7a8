// Progressive enhancement only: every field works without this script.
// On the post form, show the sections that belong to the chosen category.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("[data-post-form]");
  if (!form) return;
  var select = form.querySelector("select[name=category]");
  function update() {
    form.querySelectorAll("fieldset[data-for]").forEach(function (fs) {
      var show = fs.getAttribute("data-for").split(" ").indexOf(select.value) >= 0;
      fs.hidden = !show;
    });
  }
  select.addEventListener("change", update);
  update();
});

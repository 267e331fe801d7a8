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
    // A ride is asked for once, by its appointment: its dated times are hidden.
    form.querySelectorAll("[data-not-for]").forEach(function (el) {
      el.hidden = el.getAttribute("data-not-for").split(" ").indexOf(select.value) >= 0;
    });
  }
  select.addEventListener("change", update);
  update();
});

// Browse: the filters are folded behind "Filters" (a <details>, which works without script);
// on a wide screen there is room, so they start open.
document.addEventListener("DOMContentLoaded", function () {
  if (!window.matchMedia("(min-width: 40rem)").matches) return;
  document.querySelectorAll("details[data-wide-open]").forEach(function (d) { d.open = true; });
});

// "Add another time": without script the button sends the form back and the server adds an empty
// row; with it, the last row is copied here (renumbered and emptied), so nothing reloads.
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-add-row]").forEach(function (button) {
    var name = button.getAttribute("data-add-row");
    var box = document.querySelector('[data-rows="' + name + '"]');
    var max = parseInt(button.getAttribute("data-max"), 10);
    if (!box) return;
    button.addEventListener("click", function (event) {
      var rows = box.querySelectorAll('[role="group"]');
      if (!rows.length) return;
      event.preventDefault();
      var n = rows.length;  // the new row's index (rows are numbered from 0)
      var row = rows[n - 1].cloneNode(true);
      var from = new RegExp("^" + name + "-\\d+-");
      var to = name + "-" + n + "-";
      row.setAttribute("aria-label", box.getAttribute("data-label") + " " + (n + 1));
      row.querySelectorAll(".error").forEach(function (e) { e.remove(); });
      row.querySelectorAll(".has-error").forEach(function (e) { e.classList.remove("has-error"); });
      row.querySelectorAll("[id], [for], [name], [aria-describedby]").forEach(function (el) {
        ["id", "for", "name"].forEach(function (attr) {
          if (el.hasAttribute(attr)) el.setAttribute(attr, el.getAttribute(attr).replace(from, to));
        });
        if (el.hasAttribute("aria-describedby")) {
          var ids = el.getAttribute("aria-describedby").split(" ").filter(function (id) { return !/-err$/.test(id); });
          if (ids.length) el.setAttribute("aria-describedby", ids.join(" ").replace(new RegExp(name + "-\\d+-", "g"), to));
          else el.removeAttribute("aria-describedby");
        }
        el.removeAttribute("aria-invalid");
        if (el.tagName === "SELECT") el.selectedIndex = 0;
        else if (el.tagName === "INPUT") el.value = "";
      });
      box.appendChild(row);
      var first = row.querySelector("select, input");
      if (first) first.focus();
      if (n + 1 >= max) button.hidden = true;
    });
  });
});

// Material's search reads the query on keyup; text pasted with the mouse, dropped, or chosen
// from an input method arrives without one, so nothing was searched until a key was pressed.
// Every change of the box's value (the input event) is passed on as a keyup.
(function () {
  document.addEventListener("input", function (event) {
    var box = event.target;
    if (box && box.matches && box.matches("input.md-search__input")) {
      box.dispatchEvent(new KeyboardEvent("keyup", { bubbles: true }));
    }
  }, true);
})();

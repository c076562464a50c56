// Checkout (issue 23): on wide screens the order summary beside the form is always open (checkout.css
// does it with ::details-content where the browser has it; this covers the others). Phones keep it
// collapsed above the form until the shopper opens it.
(function () {
  "use strict";
  var wide = window.matchMedia("(min-width: 960px)");
  function sync() {
    document.querySelectorAll("details[data-order-summary]").forEach(function (details) {
      if (wide.matches) { details.open = true; }
    });
  }
  document.addEventListener("DOMContentLoaded", sync);
  wide.addEventListener("change", sync);
})();

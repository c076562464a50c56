// Checkout and address forms (issue 23). On wide screens the order summary beside the form is always open (checkout.css
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

  // Address forms: the state/province field shows only for countries that have them, and the
  // postcode's placeholder is an example of the chosen country's (orders.addresses.country_hints).
  function initAddressForm(form) {
    var hintsElement = document.getElementById("country-hints");
    if (!hintsElement) { return; }
    var hints = JSON.parse(hintsElement.textContent);
    var prefix = form.getAttribute("data-address-form");
    var country = form.querySelector("[name='" + prefix + "country']");
    var region = form.querySelector("[name='" + prefix + "region']");
    var postcode = form.querySelector("[name='" + prefix + "postcode']");
    if (!country || !region || !postcode) { return; }
    var regionField = region.closest(".field");
    function update() {
      var hint = hints[country.value] || {region: true, postcode: ""};
      regionField.hidden = !hint.region && !region.value;
      postcode.placeholder = hint.postcode;
    }
    country.addEventListener("change", update);
    update();
  }
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-address-form]").forEach(initAddressForm);
  });
})();

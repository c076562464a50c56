// Progressive enhancement for the storefront. Every page works without this file.
(function () {
  "use strict";

  // Product page: follow the chosen size and colour, show that variant's price and stock,
  // and strike out combinations that do not exist or are sold out.
  function initVariantPicker(form) {
    var dataNode = document.getElementById("variant-data");
    if (!dataNode) return;
    var variants = JSON.parse(dataNode.textContent);
    var button = form.querySelector("[data-add-to-cart]");
    var chosen = form.querySelector("[data-chosen-variant]");
    var priceNode = document.querySelector("[data-price]");

    function value(name) {
      var input = form.querySelector('input[name="' + name + '"]:checked');
      return input ? input.value : null;
    }
    function sizesOffered() { return form.querySelector('input[name="size"]') !== null; }
    function coloursOffered() { return form.querySelector('input[name="colour"]') !== null; }
    function match(size, colour) {
      return variants.find(function (v) {
        return (!sizesOffered() || v.size === size) && (!coloursOffered() || v.colour === colour);
      });
    }
    function money(amount) { return "$" + Number(amount).toFixed(2); }

    function update() {
      var size = value("size"), colour = value("colour");
      // Mark options that have no buyable variant with the other choice.
      form.querySelectorAll('input[name="size"]').forEach(function (input) {
        var v = match(input.value, colour || (coloursOffered() ? null : ""));
        var possible = colour === null ? variants.some(function (x) { return x.size === input.value && x.stock > 0; }) : (v && v.stock > 0);
        input.parentElement.classList.toggle("unavailable", !possible);
      });
      form.querySelectorAll('input[name="colour"]').forEach(function (input) {
        var possible = size === null ? variants.some(function (x) { return x.colour === input.value && x.stock > 0; })
                                     : variants.some(function (x) { return x.colour === input.value && x.size === size && x.stock > 0; });
        input.parentElement.classList.toggle("unavailable", !possible);
      });
      if ((sizesOffered() && size === null) || (coloursOffered() && colour === null)) {
        var anyInStock = variants.some(function (v) { return v.stock > 0; });
        button.disabled = !anyInStock;
        button.textContent = anyInStock ? "Add to cart" : "Sold out";
        return;
      }
      var variant = match(size, colour);
      if (!variant) {
        chosen.textContent = "This combination is not available.";
        button.disabled = true;
        return;
      }
      var inStock = variant.stock > 0;
      chosen.innerHTML = "";
      var badge = document.createElement("span");
      badge.className = "stock-badge " + (inStock ? "in" : "out");
      // Keep the variant id on the badge, as the server rendered it: inventory.js finds the
      // variants to subscribe to by it (a one-variant product has no other badge).
      badge.dataset.variantId = variant.id;
      badge.dataset.lowStock = variant.low_stock;
      badge.textContent = inStock ? (variant.stock <= variant.low_stock ? "Only " + variant.stock + " left" : "In stock") : "Sold out";
      chosen.appendChild(badge);
      chosen.appendChild(document.createTextNode(" SKU " + variant.sku));
      button.disabled = !inStock;
      button.textContent = inStock ? "Add to cart" : "Sold out";
      if (priceNode) {
        priceNode.innerHTML = variant.price !== variant.regular_price
          ? '<span class="sale">' + money(variant.price) + "</span> <s>" + money(variant.regular_price) + "</s>"
          : money(variant.price);
      }
    }
    form.addEventListener("change", update);
    // Live stock (inventory.js) keeps the chosen variant's badge and the button current.
    document.addEventListener("inventory:stock", function (event) {
      variants.forEach(function (v) { if (v.id === event.detail.variant) v.stock = event.detail.in_stock ? event.detail.stock : 0; });
      update();
    });
    update();
  }

  // Gallery: clicking a thumbnail shows it as the main image.
  function initGallery() {
    var main = document.querySelector(".main-image");
    document.querySelectorAll("[data-gallery-thumb]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (!main) return;
        event.preventDefault();
        main.src = link.href;
        main.alt = link.querySelector("img").alt;
      });
    });
  }

  // Checkout: one click places one order (the server also deduplicates by idempotency key).
  function initPlaceOrder(form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      setTimeout(function () { button.disabled = true; button.textContent = "Placing your order..."; }, 0);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-variant-picker]").forEach(initVariantPicker);
    document.querySelectorAll("[data-place-order]").forEach(initPlaceOrder);
    initGallery();
  });
})();

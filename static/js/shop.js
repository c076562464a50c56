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

    // Strike an option out (and say "sold out" to screen readers) or restore it.
    function markAvailable(input, possible) {
      input.parentElement.classList.toggle("unavailable", !possible);
      var note = input.parentElement.querySelector("[data-sold-out]");
      if (note) note.hidden = possible;
    }

    function update() {
      var size = value("size"), colour = value("colour");
      // Mark options that have no buyable variant with the other choice.
      form.querySelectorAll('input[name="size"]').forEach(function (input) {
        var v = match(input.value, colour || (coloursOffered() ? null : ""));
        var possible = colour === null ? variants.some(function (x) { return x.size === input.value && x.stock > 0; }) : (v && v.stock > 0);
        markAvailable(input, possible);
      });
      form.querySelectorAll('input[name="colour"]').forEach(function (input) {
        var possible = size === null ? variants.some(function (x) { return x.colour === input.value && x.stock > 0; })
                                     : variants.some(function (x) { return x.colour === input.value && x.size === size && x.stock > 0; });
        markAvailable(input, possible);
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

  // Gallery: clicking a thumbnail shows its photo as the main image. The thumbnail's <picture>
  // carries the same srcsets the main one needs; only `sizes` (the main slot's) and the loading
  // hints differ. Without JavaScript the thumbnail is a plain link to the photo.
  function initGallery() {
    var main = document.querySelector("[data-gallery-main]");
    if (!main) return;
    document.querySelectorAll("[data-gallery-thumb]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        var shown = link.querySelector("picture") || link.querySelector("img");
        if (!shown) return;
        event.preventDefault();
        var picture = shown.cloneNode(true);
        var img = picture.tagName === "IMG" ? picture : picture.querySelector("img");
        picture.querySelectorAll("source").forEach(function (source) { source.sizes = main.dataset.sizes; });
        if (img.hasAttribute("srcset")) img.sizes = main.dataset.sizes;
        img.loading = "eager";
        img.classList.add("main-image");
        img.classList.remove("is-loaded"); // show its placeholder until the larger file is in
        main.replaceChildren(picture);
      });
    });
  }

  // Gallery by colour: choosing a colour in the picker shows that colour's first photo as the main
  // image and only that colour's thumbnails (with the photos of the whole product). The photo ->
  // colour map is the page's "gallery-colours" JSON (catalog.gallery.image_colours).
  function initColourGallery() {
    var dataNode = document.getElementById("gallery-colours");
    if (!dataNode) return;
    var colours = JSON.parse(dataNode.textContent);
    var thumbs = Array.prototype.slice.call(document.querySelectorAll("[data-gallery-thumb]"));
    document.querySelectorAll('input[name="colour"]').forEach(function (input) {
      input.addEventListener("change", function () {
        var first = null;
        thumbs.forEach(function (link) {
          var colour = colours[link.dataset.imageId];
          var shown = !colour || colour === input.value;
          link.hidden = !shown;
          if (colour === input.value && first === null) first = link;
        });
        if (first) first.click();
      });
    });
  }

  // Review form: say which rating the stars show (the stars themselves are CSS).
  function initRatingText() {
    var shown = document.querySelector("[data-rating-shown]");
    if (!shown) return;
    document.querySelectorAll('.star-input input[name="rating"]').forEach(function (input) {
      input.addEventListener("change", function () {
        shown.textContent = "Your rating: " + input.value + " out of 5";
      });
    });
  }

  // Mini-cart: the header's cart link opens the cart drawer, whose lines htmx fetches
  // (hx-get on the link). Without JavaScript the link goes to the cart page.
  function initMiniCart() {
    var drawer = document.getElementById("mini-cart");
    var opener = document.querySelector("[data-mini-cart-open]");
    if (!drawer || !opener || !window.htmx) return;
    function close() { drawer.hidden = true; opener.focus(); }
    opener.addEventListener("click", function () { drawer.hidden = false; });
    drawer.querySelector("[data-mini-cart-close]").addEventListener("click", close);
    drawer.addEventListener("click", function (event) { if (event.target === drawer) close(); });
    document.addEventListener("keydown", function (event) { if (event.key === "Escape" && !drawer.hidden) close(); });
    document.body.addEventListener("htmx:afterSwap", function (event) {
      if (event.detail.target.id === "mini-cart-body") drawer.querySelector("[data-mini-cart-close]").focus();
    });
  }

  // Images. A photo's blurred placeholder (LQIP, its CSS background) goes once the photo is in,
  // so a transparent WebP does not show it through. An image that fails to load (a missing file,
  // the media server down) is replaced by a neutral placeholder, never a broken-image icon: its
  // WebP <source>s and srcset go too, so the browser cannot pick them again. `load` and `error`
  // do not bubble, so both listen on the document in the capture phase: images added later
  // (htmx swaps, the gallery) are covered without binding anything to them.
  var PLACEHOLDER = "data:image/svg+xml," + encodeURIComponent(
    '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="372" viewBox="0 0 300 372">' +
    '<g fill="none" stroke="#b8c0c6" stroke-width="5" stroke-linejoin="round" stroke-linecap="round">' +
    '<rect x="110" y="151" width="80" height="70" rx="6"/><path d="M118 210l22-25 15 17 10-11 17 19"/>' +
    '<circle cx="171" cy="170" r="7"/></g></svg>');  // static/img/placeholder.svg, inline: no request

  function isImage(node) { return node && node.tagName === "IMG"; }

  function imageLoaded(img) { img.classList.add("is-loaded"); }

  function replaceBrokenImage(img) {
    if (img.classList.contains("is-broken")) return;  // the placeholder itself never fails; never loop
    img.classList.add("is-broken");
    var parent = img.parentElement;
    if (parent && parent.tagName === "PICTURE") {
      parent.querySelectorAll("source").forEach(function (source) { source.remove(); });
    }
    img.removeAttribute("srcset");
    img.removeAttribute("sizes");
    img.src = PLACEHOLDER;
  }

  document.addEventListener("load", function (event) {
    if (isImage(event.target)) imageLoaded(event.target);
  }, true);
  document.addEventListener("error", function (event) {
    if (isImage(event.target)) replaceBrokenImage(event.target);
  }, true);
  // Images that finished (or failed) before this deferred script ran.
  document.querySelectorAll("img").forEach(function (img) {
    if (!img.complete || !(img.currentSrc || img.getAttribute("src"))) return;
    if (img.naturalWidth > 0) imageLoaded(img);
    else replaceBrokenImage(img);
  });

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
    initColourGallery();
    initRatingText();
    initMiniCart();
  });
})();

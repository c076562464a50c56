// Live stock: subscribe to the variants shown on this page over /ws/inventory/ and keep their
// badges and add-to-cart buttons current. No framework; the page works without this file.
(function () {
  "use strict";
  var MAX_IDS = 500, PING_EVERY = 25000, FIRST_DELAY = 500, MAX_DELAY = 30000;
  var stock = {};       // variant id -> latest stock message
  var socket = null, pingTimer = null, retryDelay = FIRST_DELAY, indicator = null;

  function variantIds() {
    var ids = {};
    document.querySelectorAll("[data-variant-id]").forEach(function (el) { ids[el.dataset.variantId] = true; });
    document.querySelectorAll("[data-stock-variants]").forEach(function (el) {
      el.dataset.stockVariants.split(",").forEach(function (id) { if (id) ids[id] = true; });
    });
    return Object.keys(ids).map(Number).filter(function (id) { return id > 0; }).slice(0, MAX_IDS);
  }

  function badgeText(message, threshold) {
    if (!message.in_stock) return "Sold out";
    return message.stock <= threshold ? "Only " + message.stock + " left" : "In stock";
  }

  function apply(message) {
    stock[message.variant] = message;
    document.querySelectorAll('[data-variant-id="' + message.variant + '"]').forEach(function (el) {
      if (!el.classList.contains("stock-badge")) return;
      el.textContent = badgeText(message, Number(el.dataset.lowStock || 5));
      el.classList.toggle("in", message.in_stock);
      el.classList.toggle("out", !message.in_stock);
    });
    // Product cards: in stock while any of the product's variants is.
    document.querySelectorAll("[data-stock-variants]").forEach(function (el) {
      var ids = el.dataset.stockVariants.split(",");
      if (ids.indexOf(String(message.variant)) === -1) return;
      var known = ids.map(function (id) { return stock[id]; }).filter(Boolean);
      if (known.length < ids.length && !message.in_stock) return;  // others may still be in stock
      var anyInStock = known.some(function (m) { return m.in_stock; });
      el.textContent = anyInStock ? "In stock" : "Sold out";
      el.classList.toggle("in", anyInStock);
      el.classList.toggle("out", !anyInStock);
    });
    document.dispatchEvent(new CustomEvent("inventory:stock", { detail: message }));
  }

  function resync(ids) {
    // Catch up on anything missed while offline.
    return fetch("/api/v1/inventory/?variants=" + ids.join(","), { headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { variants: [] }; })
      .then(function (body) { body.variants.forEach(apply); })
      .catch(function () { /* the live stream still updates us */ });
  }

  function showOffline(offline) {
    if (!indicator) {
      indicator = document.createElement("div");
      indicator.className = "live-indicator";
      indicator.setAttribute("role", "status");
      indicator.textContent = "Live stock updates paused. Reconnecting\u2026";
      document.body.appendChild(indicator);
    }
    indicator.hidden = !offline;
    document.documentElement.dataset.liveStock = offline ? "offline" : "online";
  }

  function connect(ids) {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/inventory/");
    socket.onopen = function () {
      retryDelay = FIRST_DELAY;
      showOffline(false);
      socket.send(JSON.stringify({ type: "subscribe", variants: ids }));
      resync(ids);
      pingTimer = setInterval(function () { socket.send(JSON.stringify({ type: "ping" })); }, PING_EVERY);
    };
    socket.onmessage = function (event) {
      var message = JSON.parse(event.data);
      if (message.type === "stock") apply(message);
    };
    socket.onclose = function () {
      clearInterval(pingTimer);
      showOffline(true);
      // Exponential backoff with jitter: 0.5 s, 1 s, 2 s ... capped at 30 s.
      var wait = retryDelay / 2 + Math.random() * retryDelay / 2;
      retryDelay = Math.min(retryDelay * 2, MAX_DELAY);
      setTimeout(function () { connect(ids); }, wait);
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    var ids = variantIds();
    if (ids.length && "WebSocket" in window) connect(ids);
  });
})();

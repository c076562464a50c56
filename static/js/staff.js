// Staff dashboard: new orders and low-stock alerts arrive live over /ws/staff/.
(function () {
  "use strict";
  var status, feed, alerts, delay = 500;

  function cell(row, text) { var td = document.createElement("td"); td.textContent = text; row.appendChild(td); return td; }

  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  // As the page's server-rendered rows: "7 Dec 14:03" (date:"j M H:i") and "$1,234.50" (|money).
  function placedAt(iso) {
    var d = new Date(iso), pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return d.getDate() + " " + MONTHS[d.getMonth()] + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function money(amount, currency) {
    try {
      return new Intl.NumberFormat("en", { style: "currency", currency: currency }).format(Number(amount));
    } catch (error) {
      return amount + " " + currency;
    }
  }

  function addOrder(event) {
    var empty = feed.querySelector(".empty");
    if (empty) empty.remove();
    var row = document.createElement("tr");
    row.className = "new";
    var link = document.createElement("a");
    link.textContent = event.number;
    link.href = feed.dataset.orderUrl.replace("/0/", "/" + encodeURIComponent(event.id) + "/");
    cell(row, "").appendChild(link);
    cell(row, placedAt(event.ts));
    cell(row, String(event.items));
    cell(row, money(event.total, event.currency));
    cell(row, "Paid");
    feed.insertBefore(row, feed.firstChild);
  }

  function addLowStock(event) {
    var empty = alerts.querySelector(".empty");
    if (empty) empty.remove();
    var old = alerts.querySelector('[data-variant-id="' + event.variant + '"]');
    if (old) old.remove();
    var item = document.createElement("li");
    item.className = "new";
    item.dataset.variantId = event.variant;
    item.textContent = event.sku + " " + event.product_name + ": " + event.stock + " left (threshold " + event.threshold + ")";
    alerts.insertBefore(item, alerts.firstChild);
  }

  function connect() {
    var socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/staff/");
    var ping;
    socket.onopen = function () {
      delay = 500;
      status.textContent = "Live updates: on";
      ping = setInterval(function () { socket.send('{"type":"ping"}'); }, 25000);
    };
    socket.onmessage = function (message) {
      var event = JSON.parse(message.data);
      if (event.type === "order_placed") addOrder(event);
      if (event.type === "low_stock") addLowStock(event);
    };
    socket.onclose = function (close) {
      clearInterval(ping);
      if (close.code === 4403) { status.textContent = "Live updates: staff login required"; return; }
      status.textContent = "Live updates: offline, reconnecting\u2026";
      setTimeout(connect, delay / 2 + Math.random() * delay / 2);
      delay = Math.min(delay * 2, 30000);
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    status = document.querySelector("[data-live-status]");
    feed = document.querySelector("[data-order-feed]");
    alerts = document.querySelector("[data-low-stock]");
    if (status && feed && alerts && "WebSocket" in window) connect();
  });
})();

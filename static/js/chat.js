// Support chat for shoppers (issue 29). Without this file "Chat with us" is a link to the /chat/
// contact form; with it the form opens in a panel, messages go over /ws/chat/ and replies arrive live.
(function () {
  "use strict";
  var panel, body, box, socket, ping, delay = 500, seen = {};

  function wsUrl(path) { return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path; }

  // Text with http(s) links made clickable, built from DOM nodes (never innerHTML).
  function fillText(node, text) {
    var parts = text.split(/(https?:\/\/[^\s<>"']+)/);
    parts.forEach(function (part, i) {
      if (i % 2 === 1) {
        var link = document.createElement("a");
        link.href = part; link.textContent = part; link.rel = "nofollow noopener"; link.target = "_blank";
        node.appendChild(link);
      } else {
        part.split("\n").forEach(function (line, j) {
          if (j) node.appendChild(document.createElement("br"));
          node.appendChild(document.createTextNode(line));
        });
      }
    });
  }

  var MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

  // As the server-rendered messages: "7 Dec 14:03" (date:"j M H:i").
  function shortTime(iso) {
    var d = new Date(iso), pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return d.getDate() + " " + MONTHS[d.getMonth()] + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  // The staff pages draw messages the same way (static/js/staff_chat.js, loaded after this file).
  window.ishopChatText = { fillText: fillText, shortTime: shortTime };

  function addMessage(event) {
    var list = box && box.querySelector("[data-chat-messages]");
    if (!list || seen[event.id] || list.querySelector('[data-message-id="' + event.id + '"]')) return;
    seen[event.id] = true;
    var empty = list.querySelector(".chat-empty");
    if (empty) empty.remove();
    var item = document.createElement("li");
    item.className = "chat-message chat-" + event.author;
    item.dataset.messageId = event.id;
    var who = document.createElement("span");
    who.className = "chat-who"; who.textContent = event.author === "staff" ? "Support" : "You";
    var when = document.createElement("time");
    when.dateTime = event.ts; when.textContent = shortTime(event.ts);
    var text = document.createElement("p");
    text.className = "chat-body"; fillText(text, event.body);
    item.append(who, " ", when, text);
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
    box.dataset.lastId = Math.max(Number(box.dataset.lastId || 0), event.id);
    if (event.author === "staff" && socket && socket.readyState === 1) socket.send(JSON.stringify({ type: "read", id: event.id }));
  }

  function showPresence(count) {
    var node = box && box.querySelector("[data-chat-presence]");
    if (!node) return;
    node.dataset.online = count;
    node.textContent = count ? "We are online and will answer here."
      : "No one is online right now: leave a message and we will email you the reply.";
  }

  function showError(text) {
    var node = box && box.querySelector("[data-chat-error]");
    if (!node) return;
    node.textContent = text || ""; node.hidden = !text;
  }

  function connect() {
    if (!box || !("WebSocket" in window)) return;
    if (socket) { socket.onclose = null; socket.close(); }
    socket = new WebSocket(wsUrl("/ws/chat/?since=" + (box.dataset.lastId || 0)));
    socket.onopen = function () {
      delay = 500;
      clearInterval(ping);
      ping = setInterval(function () { socket.send('{"type":"ping"}'); }, 25000);
    };
    socket.onmessage = function (message) {
      var event = JSON.parse(message.data);
      if (event.type === "snapshot") {
        if (event.conversation) box.dataset.conversation = event.conversation;
        event.messages.forEach(addMessage);
        showPresence(event.staff_online);
      } else if (event.type === "message") {
        box.dataset.conversation = event.conversation;
        addMessage(event);
      } else if (event.type === "conversation") {
        var closed = box.querySelector("[data-chat-closed]");
        if (closed) closed.hidden = event.status !== "closed";
      } else if (event.type === "presence") {
        showPresence(event.staff_online);
      } else if (event.type === "error") {
        showError(event.detail);
      }
    };
    socket.onclose = function () {
      clearInterval(ping);
      setTimeout(connect, delay / 2 + Math.random() * delay / 2);
      delay = Math.min(delay * 2, 30000);
    };
  }

  function bind(root) {
    box = root.querySelector("[data-chat-box]");
    if (!box) return;
    var form = box.querySelector("[data-chat-form]");
    form.addEventListener("submit", function (submit) {
      var field = form.querySelector("textarea");
      var live = socket && socket.readyState === 1 && box.dataset.conversation && !form.querySelector('input[name="email"]');
      showError("");
      if (live) {
        submit.preventDefault();
        if (!field.value.trim()) { showError("Write a message first."); return; }
        socket.send(JSON.stringify({ type: "message", body: field.value }));
        field.value = "";
        return;
      }
      if (!body) return; // the /chat/ page itself: an ordinary form post
      submit.preventDefault();
      fetch(form.action, { method: "POST", body: new FormData(form), headers: { "HX-Request": "true" }, credentials: "same-origin" })
        .then(function (response) { return response.text(); })
        .then(function (html) { load(html); });
    });
    var list = box.querySelector("[data-chat-messages]");
    list.scrollTop = list.scrollHeight;
    connect();
  }

  function load(html) {
    body.innerHTML = html; // the server's fragment (templates/chat/_panel.html, escaped there)
    bind(body);
    var field = body.querySelector("textarea");
    if (field) field.focus();
  }

  function open() {
    panel.hidden = false;
    sessionStorage.setItem("chat-open", "1");
    if (!body.firstChild) {
      fetch(document.querySelector("[data-chat-open]").href, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
        .then(function (response) { return response.text(); })
        .then(load);
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    var launch = document.querySelector("[data-chat-open]");
    panel = document.querySelector("[data-chat-panel]");
    body = panel && panel.querySelector("[data-chat-panel-body]");
    var page = document.querySelector("main [data-chat-box]");
    if (page) { // the /chat/ page: enhance it in place, no panel
      body = null;
      if (launch) launch.hidden = true;
      bind(document.querySelector("main"));
      return;
    }
    if (!launch || !panel || !window.fetch) return;
    launch.addEventListener("click", function (click) { click.preventDefault(); open(); });
    panel.querySelector("[data-chat-close]").addEventListener("click", function () {
      panel.hidden = true; sessionStorage.removeItem("chat-open");
    });
    if (sessionStorage.getItem("chat-open")) open();
  });
})();

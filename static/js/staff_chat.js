// Staff chat (issue 29): the inbox's unread counts and a conversation's messages arrive live over
// /ws/staff/chat/; replies are sent over it. Without this file the pages work through their forms.
(function () {
  "use strict";
  var status, box, inbox, socket, ping, delay = 500, lastId = 0;

  // Messages are drawn as the shopper's panel draws them: links made clickable from DOM nodes
  // (never innerHTML), times as the server renders them (static/js/chat.js, loaded before this file).
  var fillText = window.ishopChatText.fillText, shortTime = window.ishopChatText.shortTime;

  function addMessage(event) {
    var list = box.querySelector("[data-chat-messages]");
    if (list.querySelector('[data-message-id="' + event.id + '"]')) return;
    var empty = list.querySelector(".chat-empty");
    if (empty) empty.remove();
    var item = document.createElement("li");
    item.className = "chat-message chat-" + event.author;
    item.dataset.messageId = event.id;
    var who = document.createElement("span");
    who.className = "chat-who"; who.textContent = event.author === "staff" ? "Staff" : "Shopper";
    var when = document.createElement("time");
    when.dateTime = event.ts; when.textContent = shortTime(event.ts);
    var text = document.createElement("p");
    text.className = "chat-body"; fillText(text, event.body);
    item.append(who, " ", when, text);
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
    if (event.author === "shopper") socket.send(JSON.stringify({ type: "read", conversation: event.conversation, id: event.id }));
  }

  // A new conversation, or staff coming and going: the inbox's rows, tab counts and who is online
  // are read again from the page itself (server-rendered, so they match a reload), one read at a time.
  var refreshing = false, refreshAgain = false;
  function refreshInbox() {
    if (refreshing) { refreshAgain = true; return; }
    refreshing = true;
    fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { if (!response.ok) throw new Error(response.status); return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        ["[data-chat-inbox] tbody", ".chat-tabs", "[data-staff-presence-names]", "[data-staff-presence-count]"]
          .forEach(function (selector) {
            var old = document.querySelector(selector), next = fresh.querySelector(selector);
            if (old && next) old.replaceWith(document.importNode(next, true));
          });
      })
      .catch(function () { document.querySelector("[data-inbox-new]").hidden = false; })
      .then(function () {
        refreshing = false;
        if (refreshAgain) { refreshAgain = false; refreshInbox(); }
      });
  }

  function onMessage(event) {
    lastId = Math.max(lastId, event.id);
    if (box && Number(box.dataset.staffConversation) === event.conversation) { addMessage(event); return; }
    if (!inbox || event.author !== "shopper") return;
    var row = inbox.querySelector('[data-conversation-row="' + event.conversation + '"]');
    if (!row) { refreshInbox(); return; }
    var badge = row.querySelector("[data-unread]");
    badge.textContent = String(Number(badge.textContent) + 1);
    badge.classList.add("unread");
  }

  function connect() {
    socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/staff/chat/" + (lastId ? "?since=" + lastId : ""));
    socket.onopen = function () {
      delay = 500;
      status.textContent = "(live)";
      ping = setInterval(function () { socket.send('{"type":"ping"}'); }, 25000);
    };
    socket.onmessage = function (message) {
      var event = JSON.parse(message.data);
      if (event.type === "snapshot") event.messages.forEach(onMessage);
      else if (event.type === "message") onMessage(event);
      else if (event.type === "presence") {
        var presence = document.querySelector("[data-staff-presence-count]");
        if (presence) presence.textContent = String(event.staff_online);
        if (inbox) refreshInbox(); // and who they are
      } else if (event.type === "conversation" && box && Number(box.dataset.staffConversation) === event.conversation) {
        var note = box.querySelector("[data-conversation-changed]");
        if (note) note.hidden = false; // closed, reopened or assigned elsewhere: the page's buttons are stale
      }
      else if (event.type === "error" && box) {
        var error = box.querySelector("[data-chat-error]");
        if (error) { error.textContent = event.detail; error.hidden = false; }
      }
    };
    socket.onclose = function (close) {
      clearInterval(ping);
      if (close.code === 4403) { status.textContent = "(live updates: chat permission required)"; return; }
      status.textContent = "(offline, reconnecting\u2026)";
      setTimeout(connect, delay / 2 + Math.random() * delay / 2);
      delay = Math.min(delay * 2, 30000);
    };
  }

  document.addEventListener("DOMContentLoaded", function () {
    status = document.querySelector("[data-live-status]");
    box = document.querySelector("[data-staff-conversation]");
    inbox = document.querySelector("[data-chat-inbox]");
    if (!status || !("WebSocket" in window)) return;
    if (box) {
      lastId = Number(box.dataset.lastId || 0);
      var list = box.querySelector("[data-chat-messages]");
      list.scrollTop = list.scrollHeight;
      var form = box.querySelector("[data-staff-reply]");
      var canned = box.querySelector("[data-canned]");
      if (canned) canned.addEventListener("change", function () {
        if (canned.value) { form.querySelector("textarea").value = canned.value; canned.value = ""; }
      });
      if (form) form.addEventListener("submit", function (submit) {
        if (!socket || socket.readyState !== 1) return; // the form posts instead
        submit.preventDefault();
        var field = form.querySelector("textarea");
        if (!field.value.trim()) return;
        socket.send(JSON.stringify({ type: "message", conversation: Number(box.dataset.staffConversation), body: field.value }));
        field.value = "";
      });
    } else {
      lastId = 0; // the inbox: only what arrives from now on (no replay without ?since)
    }
    connect();
  });
})();

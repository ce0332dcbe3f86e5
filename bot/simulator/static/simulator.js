// The simulator page: sends the person's actions to /simulator/api/… (the server turns each into a real
// signed push to /wechat) and shows the passive reply plus every message the service pushed to the user.
// Everything user-supplied is put into the page with textContent, never as HTML.
(() => {
  "use strict";

  const STORAGE_KEY = "ycbot.simulator.openid";
  const POLL_MS = 1500;
  const app = document.getElementById("app");
  const T = JSON.parse(document.getElementById("chrome-text").textContent);
  const maxPhotoBytes = Number(app.dataset.maxPhotoBytes);
  const $ = (id) => document.getElementById(id);
  const chat = $("chat");

  const state = { openid: "", after: 0, busy: 0, pollTimer: null, polling: false };

  const fmt = (template, values) => template.replace(/\{(\w+)\}/g, (_, k) => String(values[k] ?? ""));

  function randomOpenid() {
    const bytes = new Uint8Array(8);
    crypto.getRandomValues(bytes);
    return "sim-" + Array.from(bytes, (b) => b.toString(36).padStart(2, "0")).join("").slice(0, 12);
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function scrollDown() {
    chat.scrollTop = chat.scrollHeight;
  }

  function notice(text, isError) {
    chat.append(el("div", isError ? "notice error" : "notice", text));
    scrollDown();
  }

  function message(side, content) {
    const row = el("div", "msg " + side);
    row.append(el("div", "avatar", side === "me" ? T.you : T.bot));
    const bubble = el("div", "bubble");
    if (typeof content === "string") bubble.textContent = content;
    else bubble.append(...content);
    row.append(bubble);
    chat.append(row);
    scrollDown();
    return bubble;
  }

  function card(label, chipClass, title, lines, url, meta) {
    const parts = [];
    const head = el("div", "card-head");
    head.append(el("span", "chip " + chipClass, label), el("span", "", meta || ""));
    parts.push(head);
    if (title) parts.push(el("div", "card-title", title));
    parts.push(el("div", "card-body", lines.join("\n")));
    if (url) {
      const link = el("a", "card-link", T.details + " ›");
      link.href = url;
      link.target = "_blank";
      link.rel = "noopener";
      parts.push(link);
    }
    const bubble = message("bot", parts);
    bubble.classList.add("card");
    return bubble;
  }

  function showReply(reply) {
    if (!reply) {
      notice(T.noReply);
    } else if (reply.type === "text") {
      message("bot", reply.content).dataset.kind = "reply";
    } else if (reply.type === "news") {
      card(reply.label || T.news, "", reply.title, [reply.description], reply.url, "").dataset.kind = "reply";
    } else {
      notice(reply.type);
    }
  }

  function showPushed(item) {
    const chipClass = item.kind === "template" ? "template" : item.channel === "企业微信" ? "wecom" : "";
    const when = item.created_at ? new Date(item.created_at).toLocaleTimeString("zh-CN", { hour12: false }) : "";
    const refused = item.refused ? "refused " : "";
    const lines = item.refused ? [item.refused, ...item.lines] : item.lines;
    const bubble = card(item.label, refused + chipClass, item.title, lines, item.url, item.channel + " " + when);
    bubble.dataset.kind = item.refused ? "refused" : "pushed";
    bubble.dataset.id = String(item.id);
  }

  async function call(path, options) {
    state.busy += 1;
    $("send-btn").disabled = true;
    try {
      const response = await fetch(path, options);
      let data = {};
      try {
        data = await response.json();
      } catch (_) {
        data = { error: "HTTP " + response.status };
      }
      if (!response.ok || data.error) {
        notice(data.error || "HTTP " + response.status, true);
        return null;
      }
      return data;
    } catch (_) {
      notice(T.network, true);
      return null;
    } finally {
      state.busy -= 1;
      $("send-btn").disabled = state.busy > 0;
    }
  }

  // Sends an action; when it is refused, the person's own bubble gets WeChat's red "not sent" mark.
  async function post(action, body, bubble) {
    const data = await call("/simulator/api/" + action, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ openid: state.openid, ...body }),
    });
    if (data) showReply(data.reply);
    else if (bubble) bubble.classList.add("failed");
    poll();
    return data;
  }

  async function poll() {
    if (state.polling || !state.openid) return;
    state.polling = true;
    const openid = state.openid;
    try {
      const url = "/simulator/api/messages?openid=" + encodeURIComponent(openid) + "&after=" + state.after;
      const response = await fetch(url);
      if (response.ok && openid === state.openid) {
        const data = await response.json();
        for (const item of data.messages) showPushed(item);
        state.after = data.last_id;
        if (data.messages.length === 100) setTimeout(poll, 0);
      }
    } catch (_) {
      // The next tick tries again; a stopped server shows up as an error on the next send.
    } finally {
      state.polling = false;
    }
  }

  function useOpenid(openid, announce) {
    state.openid = openid;
    state.after = 0;
    localStorage.setItem(STORAGE_KEY, openid);
    $("openid").value = openid;
    $("whoami").textContent = fmt(T.whoami, { openid });
    if (announce) {
      chat.replaceChildren();
      notice(fmt(T.switched, { openid }));
    }
    poll();
  }

  // ---- wiring ----------------------------------------------------------------------------------------

  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const input = $("text-input");
    const content = input.value;
    if (!content.trim()) return;
    const bubble = message("me", content);
    input.value = "";
    post("text", { content }, bubble);
  });

  $("tools-toggle").addEventListener("click", () => {
    const tools = $("tools");
    tools.hidden = !tools.hidden;
    $("tools-toggle").setAttribute("aria-expanded", String(!tools.hidden));
    if (tools.hidden) $("location-form").hidden = true;
  });

  $("tool-location").addEventListener("click", () => {
    $("location-form").hidden = !$("location-form").hidden;
  });

  $("location-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const latitude = $("lat").value.trim();
    const longitude = $("lon").value.trim();
    const label = $("label").value.trim();
    const place = el("div", "place", label || T.location);
    const coords = el("div", "coords", latitude + ", " + longitude);
    const map = el("div", "map");
    const bubble = message("me", [place, coords, map]);
    post("location", { latitude, longitude, label }, bubble);
    $("tools").hidden = true;
    $("location-form").hidden = true;
  });

  $("photo-input").addEventListener("change", async () => {
    const input = $("photo-input");
    const file = input.files && input.files[0];
    input.value = "";
    if (!file) return;
    if (file.size > maxPhotoBytes) {
      notice(T.photoTooBig, true);
      return;
    }
    const img = el("img");
    img.alt = file.name;
    img.src = URL.createObjectURL(file);
    const bubble = message("me", [img]);
    $("tools").hidden = true;
    const form = new FormData();
    form.append("openid", state.openid);
    form.append("photo", file, file.name);
    const data = await call("/simulator/api/photo", { method: "POST", body: form });
    if (data) showReply(data.reply);
    else bubble.classList.add("failed");
    poll();
  });

  $("tool-subscribe").addEventListener("click", () => {
    notice(T.subscribed);
    $("tools").hidden = true;
    post("subscribe", {});
  });

  $("tool-grant").addEventListener("click", () => {
    notice(T.granted);
    $("tools").hidden = true;
    post("grant", {});
  });

  $("tool-expire").addEventListener("click", async () => {
    $("tools").hidden = true;
    const data = await call("/simulator/api/expire-window", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ openid: state.openid }),
    });
    if (data) notice(T.expired);
  });

  $("tool-unsubscribe").addEventListener("click", () => {
    notice(T.unsubscribed);
    $("tools").hidden = true;
    post("unsubscribe", {});
  });

  const pops = Array.from(document.querySelectorAll(".menu-pop"));
  const closeMenus = () => pops.forEach((pop) => { pop.hidden = true; });
  document.querySelectorAll(".menu").forEach((menu) => {
    const pop = menu.querySelector(".menu-pop");
    menu.querySelector(".menu-top").addEventListener("click", (event) => {
      event.stopPropagation();
      const wasHidden = pop.hidden;
      closeMenus();
      pop.hidden = !wasHidden;
    });
  });
  document.querySelectorAll(".menu-item").forEach((item) => {
    item.addEventListener("click", (event) => {
      event.stopPropagation();
      closeMenus();
      notice(fmt(T.clicked, { name: item.textContent.trim() }));
      post("click", { key: item.dataset.key });
    });
  });
  document.addEventListener("click", closeMenus);

  $("user-toggle").addEventListener("click", () => {
    const panel = $("user-panel");
    panel.hidden = !panel.hidden;
    $("user-toggle").setAttribute("aria-expanded", String(!panel.hidden));
  });
  $("openid-apply").addEventListener("click", () => {
    const value = $("openid").value.trim();
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(value)) {
      notice(T.badOpenid, true);
      return;
    }
    useOpenid(value, true);
  });
  $("openid-random").addEventListener("click", () => useOpenid(randomOpenid(), true));

  useOpenid(localStorage.getItem(STORAGE_KEY) || randomOpenid(), false);
  state.pollTimer = setInterval(() => {
    if (!document.hidden) poll();
  }, POLL_MS);
})();

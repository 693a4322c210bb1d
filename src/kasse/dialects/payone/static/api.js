/* Kasse's Klarna Payments library (sandbox): the subset of Klarna's api.js that PAYONE's Klarna checkout
 * uses — Klarna.Payments.init({client_token}), load({container, payment_method_category}, [data], cb) and
 * authorize({payment_method_category}, [data], cb) → {approved, authorization_token, show_form}.
 * Everything it shows and loads comes from the Kasse server that served this file. */
(function () {
  "use strict";
  var script = document.currentScript;
  var base = script && script.src ? new URL(script.src).origin : "";
  var state = { clientToken: null, session: null };

  function post(path, body) {
    // text/plain keeps the request "simple" (no CORS preflight); Kasse answers with CORS headers.
    return fetch(base + path, { method: "POST", headers: { "Content-Type": "text/plain" },
                                body: JSON.stringify(body) })
      .then(function (r) { return r.json(); });
  }

  function args(data, callback) {
    return typeof data === "function" ? { data: {}, callback: data } : { data: data || {}, callback: callback };
  }

  function money(amount, currency) {
    return (amount / 100).toFixed(2).replace(".", ",") + "\u00a0" + currency;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) { node.textContent = text; }
    return node;
  }

  function init(options) {
    if (!options || typeof options.client_token !== "string" || !options.client_token) {
      throw new Error("Klarna.Payments.init needs a client_token");
    }
    state.clientToken = options.client_token;
    state.session = null;
  }

  function load(options, data, callback) {
    var a = args(data, callback);
    var container = typeof options.container === "string" ? document.querySelector(options.container)
                                                          : options.container;
    if (!state.clientToken || !container) {
      if (a.callback) { a.callback({ show_form: false, error: { invalid_fields: ["container"] } }); }
      return;
    }
    post("/klarna/kp/v1/session", { client_token: state.clientToken }).then(function (s) {
      if (s.error) {
        if (a.callback) { a.callback({ show_form: false, error: s.error }); }
        return;
      }
      state.session = s;
      container.textContent = "";
      var box = el("div", { "data-testid": "klarna-widget", "class": "kasse-klarna",
        style: "font:15px/1.4 system-ui,sans-serif;border:1px solid #d9d4cc;border-radius:10px;" +
               "padding:14px 16px;background:#fff;max-width:480px;box-sizing:border-box" });
      var head = el("div", { style: "display:flex;align-items:center;gap:10px" });
      head.appendChild(el("img", { src: base + "/klarna/kp/lib/v1/badge.svg", alt: "Klarna", width: "56",
                                   height: "24" }));
      head.appendChild(el("strong", { "data-testid": "klarna-category" }, s.category_name));
      box.appendChild(head);
      box.appendChild(el("p", { style: "margin:8px 0 0;color:#555" },
        money(s.amount, s.currency) + " \u00b7 Kasse sandbox"));
      container.appendChild(box);
      if (a.callback) { a.callback({ show_form: true }); }
    });
  }

  function dialog(session, done) {
    var overlay = el("div", { "data-testid": "klarna-dialog", role: "dialog", "aria-modal": "true",
      style: "position:fixed;inset:0;background:rgba(23,20,18,.55);display:flex;align-items:center;" +
             "justify-content:center;z-index:2147483647;padding:16px" });
    var card = el("div", { style: "background:#fff;border-radius:12px;padding:22px;width:100%;max-width:400px;" +
      "font:15px/1.45 system-ui,sans-serif;box-shadow:0 10px 40px rgba(0,0,0,.25);box-sizing:border-box" });
    card.appendChild(el("img", { src: base + "/klarna/kp/lib/v1/badge.svg", alt: "Klarna", width: "72",
                                 height: "30" }));
    card.appendChild(el("h2", { style: "margin:12px 0 4px;font-size:19px" }, session.category_name));
    card.appendChild(el("p", { "data-testid": "klarna-amount", style: "margin:0 0 14px;font-size:22px;font-weight:600" },
                        money(session.amount, session.currency)));
    card.appendChild(el("p", { style: "margin:0 0 18px;color:#555" },
      "Kasse sandbox: approve or decline as the customer would at Klarna."));
    var row = el("div", { style: "display:flex;gap:10px;flex-wrap:wrap" });
    var style = "flex:1 1 140px;padding:12px;border-radius:8px;font:600 15px system-ui,sans-serif;cursor:pointer;";
    var approve = el("button", { type: "button", "data-testid": "approve",
                                 style: style + "background:#ffb3c7;border:0;color:#17120f" }, "Approve");
    var decline = el("button", { type: "button", "data-testid": "decline",
                                 style: style + "background:#fff;border:1px solid #17120f;color:#17120f" }, "Decline");
    row.appendChild(approve);
    row.appendChild(decline);
    card.appendChild(row);
    overlay.appendChild(card);
    document.body.appendChild(overlay);
    function answer(yes) {
      approve.disabled = decline.disabled = true;
      done(yes, function () { overlay.remove(); });
    }
    approve.addEventListener("click", function () { answer(true); });
    decline.addEventListener("click", function () { answer(false); });
  }

  function authorize(options, data, callback) {
    var a = args(data, callback);
    if (!state.clientToken || !state.session) {
      if (a.callback) { a.callback({ approved: false, show_form: false, error: { invalid_fields: ["client_token"] } }); }
      return;
    }
    dialog(state.session, function (yes, close) {
      post("/klarna/kp/v1/authorize", { client_token: state.clientToken, approve: yes })
        .then(function (answer) {
          close();
          if (a.callback) { a.callback(answer.error ? { approved: false, show_form: false, error: answer.error }
                                                    : answer); }
        });
    });
  }

  window.Klarna = window.Klarna || {};
  window.Klarna.Payments = { init: init, load: load, authorize: authorize };
  if (typeof window.klarnaAsyncCallback === "function") { window.klarnaAsyncCallback(); }
})();

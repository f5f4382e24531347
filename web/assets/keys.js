// authd-web: security keys (WebAuthn). The page carries the options authd gave in
// data-options on #key-ceremony; the button #add-key-start or #key-signin hands them
// to the browser's authenticator and posts its answer (JSON) back in the form's
// hidden "credential" field. Without JavaScript the page says a key needs it.
"use strict";
(function () {
  var box = document.getElementById("key-ceremony");
  if (!box) { return; }
  var form = document.getElementById(box.getAttribute("data-form"));
  var button = document.getElementById(box.getAttribute("data-button"));
  var field = form && form.querySelector("input[name=credential]");
  var note = document.getElementById("key-note");
  if (!form || !button || !field || !window.PublicKeyCredential) { return; }
  document.getElementById("key-nojs").hidden = true;
  button.hidden = false;

  function toBuffer(text) {
    var b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) { b64 += "="; }
    var raw = atob(b64), bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { bytes[i] = raw.charCodeAt(i); }
    return bytes.buffer;
  }
  function toText(buffer) {
    if (!buffer) { return null; }
    var bytes = new Uint8Array(buffer), raw = "";
    for (var i = 0; i < bytes.length; i++) { raw += String.fromCharCode(bytes[i]); }
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function ids(list) {
    (list || []).forEach(function (c) { c.id = toBuffer(c.id); });
  }
  function say(text) {
    if (!note) { return; }
    note.textContent = text;
    note.hidden = false;
  }

  button.addEventListener("click", function () {
    var options = JSON.parse(box.getAttribute("data-options")).publicKey;
    options.challenge = toBuffer(options.challenge);
    // Chromium (seen in 156) answers NotSupportedError to credProtect
    // "userVerificationRequired" for a key that is not discoverable, even unenforced:
    // leave credProtect to the key's default, as webauthn-rs does not enforce it.
    if (options.extensions) {
      delete options.extensions.credentialProtectionPolicy;
      delete options.extensions.enforceCredentialProtectionPolicy;
    }
    var ask;
    if (box.getAttribute("data-kind") === "create") {
      options.user.id = toBuffer(options.user.id);
      ids(options.excludeCredentials);
      ask = navigator.credentials.create({ publicKey: options });
    } else {
      ids(options.allowCredentials);
      ask = navigator.credentials.get({ publicKey: options });
    }
    button.disabled = true;
    ask.then(function (c) {
      var r = c.response, response = { clientDataJSON: toText(r.clientDataJSON) };
      if (r.attestationObject) {
        response.attestationObject = toText(r.attestationObject);
      } else {
        response.authenticatorData = toText(r.authenticatorData);
        response.signature = toText(r.signature);
        response.userHandle = toText(r.userHandle);
      }
      field.value = JSON.stringify({
        id: c.id, rawId: toText(c.rawId), type: c.type, response: response, extensions: {}
      });
      form.submit();
    }, function (e) {
      button.disabled = false;
      say("The security key did not answer (" + e.name + "). Try again, or use another way.");
    });
  });
  if (box.getAttribute("data-auto") === "yes") { button.click(); }
})();

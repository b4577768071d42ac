// Passkeys in the browser: the options authnode made go to
// navigator.credentials as they are, and the credential the browser makes
// goes back as it is (the WebAuthn JSON forms, binary fields in base64url).
//
// A static file of the app's own, so that the page's Content-Security-Policy
// stays strict ("script-src 'self'", no inline script, no other host).
// Browsers with PublicKeyCredential.parseCreationOptionsFromJSON and
// credential.toJSON() (Chromium 129+, Firefox 119+, Safari 18+) need none of
// the fallbacks below; older ones get the same conversion by hand.
"use strict";

(function () {
  function fromB64url(text) {
    const b64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(b64 + "===".slice((b64.length + 3) % 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0)).buffer;
  }

  function toB64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let raw = "";
    for (const b of bytes) raw += String.fromCharCode(b);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map((c) => Object.assign({}, c, { id: fromB64url(c.id) }));
  }

  function creationOptions(json) {
    if (PublicKeyCredential.parseCreationOptionsFromJSON)
      return PublicKeyCredential.parseCreationOptionsFromJSON(json);
    return Object.assign({}, json, {
      challenge: fromB64url(json.challenge),
      user: Object.assign({}, json.user, { id: fromB64url(json.user.id) }),
      excludeCredentials: withIds(json.excludeCredentials),
    });
  }

  function requestOptions(json) {
    if (PublicKeyCredential.parseRequestOptionsFromJSON)
      return PublicKeyCredential.parseRequestOptionsFromJSON(json);
    return Object.assign({}, json, {
      challenge: fromB64url(json.challenge),
      allowCredentials: withIds(json.allowCredentials),
    });
  }

  function credentialJSON(cred) {
    if (typeof cred.toJSON === "function") return cred.toJSON();
    const r = cred.response;
    const response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      response.userHandle = r.userHandle ? toB64url(r.userHandle) : null;
    }
    return { id: cred.id, rawId: toB64url(cred.rawId), type: cred.type,
             response: response, clientExtensionResults: {} };
  }

  /// POSTs JSON to the app; the app answers JSON with either `redirect`
  /// (go there) or `error` (a sentence to show).
  async function post(url, body, csrf) {
    const headers = { "Content-Type": "application/json" };
    if (csrf) headers["X-CSRF-Token"] = csrf;
    const reply = await fetch(url, {
      method: "POST", headers: headers, body: JSON.stringify(body),
      credentials: "same-origin",
    });
    let answer = {};
    try { answer = await reply.json(); } catch (e) { /* not JSON */ }
    if (!reply.ok && !answer.error)
      answer.error = "The sign-in service is not available right now.";
    return answer;
  }

  function say(status, text) {
    status.textContent = text;
    status.hidden = !text;
  }

  /// The browser's own refusals (the user closed the dialog, no passkey
  /// for this site) in words a user understands.
  function browserProblem(e) {
    if (e && e.name === "NotAllowedError")
      return "No passkey was used. Try again, or use your password.";
    if (e && e.name === "InvalidStateError")
      return "This device has a passkey for your account already.";
    return "This browser could not use a passkey here.";
  }

  async function addPasskey(button) {
    const status = document.getElementById("passkey-status");
    const nameBox = document.getElementById("passkey-name");
    const csrf = button.dataset.csrf;
    say(status, "");
    const begun = await post("/account/security/passkeys/begin",
                             { name: nameBox ? nameBox.value : "" }, csrf);
    if (begun.error) return say(status, begun.error);
    let cred;
    try {
      cred = await navigator.credentials.create({ publicKey: creationOptions(begun.options) });
    } catch (e) {
      return say(status, browserProblem(e));
    }
    const done = await post("/account/security/passkeys/finish",
                            { credential: credentialJSON(cred) }, csrf);
    if (done.error) return say(status, done.error);
    window.location.assign(done.redirect);
  }

  async function signIn(button) {
    const status = document.getElementById("passkey-status");
    const emailBox = document.getElementById("email");
    say(status, "");
    const begun = await post("/account/login/passkey/begin",
                             { email: emailBox ? emailBox.value : "" });
    if (begun.error) return say(status, begun.error);
    let cred;
    try {
      cred = await navigator.credentials.get({ publicKey: requestOptions(begun.options) });
    } catch (e) {
      return say(status, browserProblem(e));
    }
    const done = await post("/account/login/passkey/finish",
                            { challenge_id: begun.challenge_id,
                              credential: credentialJSON(cred) });
    if (done.error) return say(status, done.error);
    window.location.assign(done.redirect);
  }

  document.addEventListener("DOMContentLoaded", function () {
    const supported = window.PublicKeyCredential !== undefined;
    const add = document.getElementById("passkey-add");
    const login = document.getElementById("passkey-login");
    for (const button of [add, login]) {
      if (!button) continue;
      if (!supported) {
        button.disabled = true;
        continue;
      }
      button.addEventListener("click", function (event) {
        event.preventDefault();
        button.disabled = true;
        (button === add ? addPasskey(button) : signIn(button))
          .finally(function () { button.disabled = false; });
      });
    }
  });
})();

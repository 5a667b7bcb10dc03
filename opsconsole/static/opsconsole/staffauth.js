// Passkey enrolment: once django-otp-webauthn reports the passkey registered, go on to the
// page the button names (recovery codes for a first second factor, else back where we were).
// A static file so the page needs no inline script under the console's CSP.
"use strict";
document.addEventListener("otp_webauthn.register_complete", function (event) {
  var button = event.target.closest("[data-done-url]");
  if (button) {
    window.location.assign(button.getAttribute("data-done-url"));
  }
});

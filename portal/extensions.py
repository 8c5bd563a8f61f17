"""Extensions created bare and bound to the app in ``create_app``."""

from flask_wtf.csrf import CSRFProtect

from flask_altitudeangel import AltitudeAngel
from portal.platform import PlatformApi
from portal.readiness import Readiness
from portal.settings import ENV_NAMES

# Sign-in, tokens and API calls; its error messages name settings as this app's users set them.
aa = AltitudeAngel(setting_names=ENV_NAMES)
csrf = CSRFProtect()
# The platform's APIs, called through ``aa``; what it learns about each app is that app's.
platform = PlatformApi(aa)
# What /readyz reports: the app's Redis and the extension's view of the authorization server.
readiness = Readiness(aa)

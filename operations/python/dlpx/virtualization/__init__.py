# The Virtualization SDK's plugin-facing packages as dvx runs them: platform, common, libs.
__path__ = __import__('pkgutil').extend_path(__path__, __name__)

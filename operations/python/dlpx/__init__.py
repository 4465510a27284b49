# dvx's copy of the Delphix Virtualization SDK's runtime packages (standard library only). A namespace, as in the vSDK.
__path__ = __import__('pkgutil').extend_path(__path__, __name__)
